# One-command set-up, build and test. `make book` and `make test` work on a fresh machine:
# they create .venv from requirements.txt (again when it changes) and install the Debian
# packages the tests need (chromium and a Korean font for the browser test, postgresql for the
# gradebook test).

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Workers for pytest-xdist (--dist loadscope): the cells of a notebook and the tests of a module stay on one
# worker; tests/test_checks.py has one class per chapter, spread over the workers. Two workers on two cores: the
# cores are full already, and a third only adds load to the fork-bomb test of tests/test_autograder_grading.py,
# whose cell must reach the process limit within a 20 s cell timeout.
WORKERS ?= 2
SCHEDULE := -n $(WORKERS) --dist loadscope

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Kernels started by nbval, nbclient and nbgrader inherit this: hidden tests import `solutions`.
export PYTHONPATH := $(CURDIR)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# pytest's configuration and markers live in pyproject.toml (and tests/facilities.py)
PYTEST := $(PY) -m pytest
# The fast tests (no kernel, no sandbox, no build): oracles, declarations, checks, units, compat, translation
FAST_TESTS := tests/test_solutions_*.py tests/test_checks.py tests/test_exercises.py tests/test_autograder_units.py \
	tests/test_autograder_records.py \
	tests/test_compat.py tests/test_translation.py

.PHONY: setup system-deps release book translations test test-seeds check imports lint grade-demo fuzz clean

setup: $(STAMP) system-deps

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@# jupyter-events pulls in rfc3987-syntax (jsonschema's optional checker of the "iri" format, which no notebook or
	@# Jupyter schema uses): it builds 35 Earley parsers at import, 2-4 s of CPU in every process that reads a notebook
	@# (nbgrader's commands, Jupyter servers, the book build). Without it jsonschema skips that one format
	@# (autograder/lean.py skips it in the grader's own processes where it is installed).
	$(PY) -m pip uninstall --quiet --disable-pip-version-check -y rfc3987-syntax
	@# the `autograder` command (pyproject.toml), running this checkout's code
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $(STAMP)

# Debian packages, installed only when missing (CI runs as root; elsewhere sudo is tried).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	@# matplotlib caches the font list once: a font installed later is found only after the cache goes
	@fc-list 2>/dev/null | grep -qi nanum || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-nanum \
	  && rm -f $${MPLCONFIGDIR:-$$HOME/.cache/matplotlib}/fontlist-*.json; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; }
	@# the grader's sandbox
	@command -v bwrap >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq bubblewrap; }

release: $(STAMP)
	$(PY) -m autograder toc
	$(PY) -m autograder release

# The book, one build per edition (locales/editions.toml declares them; the source edition first, the
# others from the catalogs in locales/<code>/). The Jupyter Book CLI cannot pass -D, so its configuration
# is turned into a conf.py (generated, never edited: _config.yml stays the only configuration) and
# `python -m coursebook build` runs sphinx-build once per edition, then writes the front page. Notebooks
# execute in the first build; the others take their outputs from the shared jupyter-cache.
BOOK_CONF := _build/conf

$(BOOK_CONF)/conf.py: _config.yml _toc.yml $(STAMP)
	$(PY) -m coursebook conf $(BOOK_CONF)

# Cached outputs belong to one set of packages and one figure setup (book/matplotlibrc: SVG figures whose text the
# Korean edition translates): a reinstalled venv or a changed setup empties the cache.
_build/.jupyter_cache.venv: $(STAMP) book/matplotlibrc book/course_figures.py
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

# A notebook that fails to execute fails the build (never a page with a traceback); myst-nb's execution
# reports are kept out of the published site, in _build/reports/<edition>/.
book: setup release $(BOOK_CONF)/conf.py _build/.jupyter_cache.venv
	$(PY) -m coursebook build --conf $(BOOK_CONF)

# Translators: extract the English messages (book pages and exercise notebooks) and update the
# catalogs of every translated edition in locales/<code>/ (new messages empty, changed ones fuzzy, removed ones deleted). The pages are read
# with their outputs (from the jupyter-cache, executed first where missing; the book build reuses them): figure
# labels and printed lines go to the outputs/ catalogs.
translations: $(STAMP) $(BOOK_CONF)/conf.py _build/.jupyter_cache.venv
	rm -rf _build/gettext
	$(VENV)/bin/sphinx-build -c $(BOOK_CONF) -b gettext -D nb_execution_mode=cache -q . _build/gettext
	$(PY) -m coursebook update --pot-dir _build/gettext

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The import contracts of pyproject.toml: layers, independence, no cycle, no upward import.
imports: $(STAMP)
	$(VENV)/bin/lint-imports

# While working: lint, the import contracts and the fast tests, in about a minute on 2 idle cores.
check: $(STAMP) lint imports
	OMP_NUM_THREADS=1 $(PYTEST) -n $(WORKERS) --dist loadscope -m "not slow" $(FAST_TESTS)

# Every notebook runs once: nbval executes and checks them (and the exercises, and the whole test suite but
# the tests of the built book), tests/nbval_cache.py stores the executed pages in the book's jupyter-cache,
# the book is built from that cache in seconds, then the built editions are tested in Chromium. One BLAS
# and torch thread per process: the two workers already fill the two cores.
# The suite runs on other CPU kernels than a plain `make book`: torch's baseline code (ATEN_CPU_CAPABILITY=
# default) and numpy's (its SIMD features disabled, tests/cpu_kernels.py), so the book's asserted claims and
# nbval's stored outputs are checked on a second kernel set without running anything twice.
OTHER_KERNELS = ATEN_CPU_CAPABILITY=default NPY_DISABLE_CPU_FEATURES="$$($(PY) -m tests.cpu_kernels)"

test: setup release lint imports $(BOOK_CONF)/conf.py _build/.jupyter_cache.venv
	OMP_NUM_THREADS=1 $(OTHER_KERNELS) $(PYTEST) --require-facilities $(SCHEDULE) -p tests.nbval_cache \
	  -m "not exhaustive" \
	  tests --ignore=tests/test_browser.py --ignore=tests/test_book.py --ignore=tests/test_korean_edition.py \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=300 --durations=40 \
	  book exercises/source
	@# the book target's prerequisites are this target's: the exercises were released above
	$(PY) -m coursebook build --conf $(BOOK_CONF)
	$(PYTEST) --require-facilities $(SCHEDULE) tests/test_book.py tests/test_browser.py tests/test_korean_edition.py

# The exhaustive tests `make test` leaves out: the reference and every catalogued mistake under 100 batch seeds
# per chapter (hidden inputs are drawn per batch; diagnosis must stay exact for any seed).
test-seeds: $(STAMP)
	OMP_NUM_THREADS=1 $(PYTEST) -n $(WORKERS) --dist loadscope -m exhaustive tests/test_checks.py

grade-demo: setup release
	$(PY) -m autograder demo

# The hostile corpus, long. make test grades one fixed hostile class (every attack once, its strongest variant)
# and runs the record properties on a fixed seed; here each round draws new hostile classes (3 batches,
# AUTOGRADER_FUZZ_CLASSES) and new records with a new Hypothesis seed, until FUZZ_SECONDS have passed (as root,
# like CI). It stops at the first failure: Hypothesis prints the failing class (not shrunk: a batch costs minutes)
# or the shrunk records, and the seed that reproduces it (FUZZ_SEED=<seed - 1> FUZZ_SECONDS=1 make fuzz).
FUZZ_SECONDS ?= 1800
fuzz: setup
	@base=$${FUZZ_SEED:-$$(date +%s)}; end=$$(( $$(date +%s) + $(FUZZ_SECONDS) )); round=0; \
	while [ $$(date +%s) -lt $$end ]; do round=$$((round + 1)); echo "fuzz round $$round: seed $$((base + round))"; \
	  AUTOGRADER_FUZZ=1 AUTOGRADER_FUZZ_EXAMPLES=2000 OMP_NUM_THREADS=1 $(PYTEST) -x -q -s -p no:cacheprovider \
	    --hypothesis-seed=$$((base + round)) tests/test_autograder_hostile.py tests/test_autograder_records.py \
	    || exit 1; \
	done; echo "fuzz: $$round round(s) clean in $(FUZZ_SECONDS) s"

clean:
	rm -rf _build exercises/release exercises/release-* grading
