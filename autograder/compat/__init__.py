"""Where the grader overrides a private part of a pinned library: one module per library.

Each module asserts the library's version at import (:func:`require`), so an upgrade fails loudly
here instead of changing grades quietly, and ``tests/test_compat.py`` checks each override's
assumption on the installed version. To upgrade a library: read the module's overrides against
the new version's source, then change its ``PINNED`` with ``requirements.txt``.
"""

from importlib.metadata import version


class UnsupportedVersion(RuntimeError):
    """A library's installed version is not the one its overrides were written for."""


def require(package, pinned):
    """Raise :class:`UnsupportedVersion` unless ``package``'s version starts with ``pinned`` (e.g. "0.11")."""
    installed = version(package)
    if installed != pinned and not installed.startswith(pinned + "."):
        raise UnsupportedVersion(f"{package} {installed} is installed; the grader's overrides of its private "
                                 f"parts (autograder/compat) were written for {pinned}: check them, then update "
                                 "the pin")
    return installed
