"""pytest plugin: what a test needs from the machine, as markers that skip it, with the reason, where that is missing.

- ``root``: runs as root (control groups and a uid per worker slot; hostile classes are graded so);
- ``bwrap``: bubblewrap can build a sandbox here (unprivileged user namespaces, or root);
- ``postgres``: PostgreSQL's server programs are installed (Debian's ``postgresql``);
- ``browser``: Chromium and Playwright are installed;
- ``slow``: more than about 30 s (kernels, notebooks, copies of the repository); ``make check``
  deselects these (``-m "not slow"``), nothing skips them.
- ``exhaustive``: many minutes (100 batch seeds per chapter); ``make test`` deselects these, ``make test-seeds``
  runs them.

A contributor without root, bubblewrap, PostgreSQL or Chromium gets skips that say what is missing
(``make system-deps`` installs the packages). CI has everything: ``make test`` passes
``--require-facilities``, and then a test skipped for a missing facility fails the run.
"""

import functools
import glob
import os
import shutil
import subprocess

import pytest

MISSING = "missing facility: "


@functools.cache
def _bwrap():
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    done = subprocess.run([bwrap, "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc",
                           "--dev", "/dev", "true"], capture_output=True, timeout=60)
    if done.returncode != 0:
        return f"bubblewrap cannot build a sandbox here ({done.stderr.decode(errors='replace').strip()[:120]})"
    return None


@functools.cache
def _browser():
    if not (shutil.which("chromium") or os.path.exists("/usr/bin/chromium")):
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed (make setup)"
    return None


FACILITIES = {
    "root": (lambda: None if os.geteuid() == 0 else "not running as root",
             "needs root (control groups, a uid per worker slot)"),
    "bwrap": (_bwrap, "needs bubblewrap and a sandbox it can build"),
    "postgres": (lambda: None if glob.glob("/usr/lib/postgresql/*/bin/initdb") else
                 "PostgreSQL is not installed (apt-get install postgresql)", "needs PostgreSQL's server programs"),
    "browser": (_browser, "needs Chromium and Playwright"),
}


def pytest_addoption(parser):
    parser.addoption("--require-facilities", action="store_true",
                     help="fail the run when a test was skipped for a missing facility (CI has them all)")


def pytest_configure(config):
    for name, (_probe, text) in FACILITIES.items():
        config.addinivalue_line("markers", f"{name}: {text}; skipped with the reason where it is missing")
    config.addinivalue_line("markers", "slow: takes more than about 30 s; `make check` deselects it")
    config.addinivalue_line("markers", "exhaustive: many minutes (e.g. 100 batch seeds per chapter); `make test` "
                                       "deselects it, `make test-seeds` runs it")
    config._facility_skips = []


def pytest_runtest_setup(item):
    for marker in item.iter_markers():
        if marker.name in FACILITIES:
            reason = FACILITIES[marker.name][0]()
            if reason:
                pytest.skip(f"{MISSING}{marker.name}: {reason}")


def pytest_runtest_logreport(report):
    if report.skipped and isinstance(report.longrepr, tuple) and MISSING in str(report.longrepr[2]):
        _skips.append(f"{report.nodeid}: {report.longrepr[2]}")


_skips = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _skips and config.getoption("require_facilities"):
        terminalreporter.section("missing facilities")
        for line in _skips:
            terminalreporter.write_line(line, red=True)
        terminalreporter.write_line(f"{len(_skips)} test(s) skipped for a missing facility, which "
                                    "--require-facilities forbids (make system-deps installs them)", red=True)
        terminalreporter._session.exitstatus = 1
