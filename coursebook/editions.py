"""The book's editions, read from their one declaration (``locales/editions.toml``).

The source edition comes first (the English notebooks); every other edition is translated from
gettext catalogs in ``locales/<code>/``. The release, the book build, the front page, the Sphinx
extension (``_ext/editions``, which reads the same file) and the tests take the list from here.
"""

import tomllib
from dataclasses import dataclass

from coursebook.paths import COURSE_ROOT, REPO

DECLARATION = REPO / "locales" / "editions.toml"


@dataclass(frozen=True)
class Edition:
    code: str  # the language code Sphinx builds with
    name: str  # the edition's name in its own language
    link: str  # the front page's link text
    title: str  # the book's title in that language

    @property
    def is_source(self):
        return self == source()

    def release(self, course_root=COURSE_ROOT):
        """The folder of this edition's exercise release (``exercises/release[-<code>]/``)."""
        return course_root / ("release" if self.is_source else f"release-{self.code}")


def editions():
    """Every edition, the source first."""
    with open(DECLARATION, "rb") as fh:
        return tuple(Edition(**entry) for entry in tomllib.load(fh)["edition"])


def source():
    return editions()[0]


def translated():
    """The editions made from catalogs: every one but the source."""
    return editions()[1:]


def codes():
    return tuple(e.code for e in editions())
