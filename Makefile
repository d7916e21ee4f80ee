# One-command set-up, build and test. `make book` and `make test` work on a fresh machine:
# they create .venv from requirements.txt (again when it changes) and install the Debian
# packages the tests need (chromium and a Korean font for the browser test, postgresql for the
# gradebook test).

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Workers for pytest-xdist; notebooks of one file stay on one worker (--dist loadfile).
WORKERS ?= 2

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Kernels started by nbval, nbclient and nbgrader inherit this: hidden tests import `solutions`.
export PYTHONPATH := $(CURDIR)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

PYTEST := $(PY) -m pytest -c tests/pytest.ini --rootdir=.

.PHONY: setup system-deps release book test lint grade-demo clean

setup: $(STAMP) system-deps

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# Debian packages, installed only when missing (CI runs as root; elsewhere sudo is tried).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@fc-list 2>/dev/null | grep -qi nanum || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-nanum; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; }

release: $(STAMP)
	$(PY) -m autograder release

book: setup release
	$(VENV)/bin/jupyter-book build . --all --warningiserror --nitpick --keep-going

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: book lint
	$(PYTEST) -n $(WORKERS) --dist loadfile \
	  tests \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=300 \
	  book exercises/source

grade-demo: setup release
	$(PY) -m autograder demo

clean:
	rm -rf _build exercises/release grading
