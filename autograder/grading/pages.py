"""HTML pages the grader writes itself (the class report, a submission's status page): Jinja2 templates
in ``templates/``, fed a view model of plain values. Every value is HTML-escaped (``html.escape``)."""

import html
from pathlib import Path

import jinja2
from markupsafe import Markup

from autograder.common.words import ENGLISH

TEMPLATES = Path(__file__).with_name("templates")


def _escaped(value):
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, finalize=_escaped,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          extensions=["jinja2.ext.i18n"])


def render(template, **view):
    """The page of ``template`` (a file in ``templates/``) for the view model ``view``."""
    return _ENV.get_template(template).render(**view)


def status_page(outcome, max_score, translator=ENGLISH):
    """What a student whose submission could not be graded reads instead of feedback, in ``translator``'s
    language (its ``{% trans %}`` words and the detail; the status is the gradebook's code)."""
    return render("status.html.j2", assignment=outcome.assignment_id, max_score=f"{max_score:g}",
                  status=outcome.status.value, detail=translator.text(outcome.detail), gettext=translator.gettext,
                  ngettext=lambda singular, plural, n: translator.gettext(singular if n == 1 else plural))
