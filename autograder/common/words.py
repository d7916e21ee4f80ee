"""The grader's words in the student's language: what a feedback or status page says to the student.

The grader words everything in English (the gradebook, grades.csv, the class report and the graded notebooks
stay in the instructor's language); a page for a student is translated when it is rendered, by a
:class:`Translator` built from the catalogs of the submission's language (``locales/<code>/LC_MESSAGES/grader.po``
and ``mistakes/<chapter>.po``, extracted by ``python -m coursebook update``):

- a message marked ``N_(f"...")`` in the code is a template: its ``{placeholders}`` are the values the code put
  in (numbers, names, other messages). :meth:`Translator.text` finds the template an English text was written
  from, takes the values back out of it exactly as they were written, translates those that are messages
  themselves, and writes them into the translated template: numbers are copied, never formatted again;
- a text that no template wrote (a judge's message of a chapter, a hint, a student's exception) and a template
  without a translation stay English;
- the English translator (:data:`ENGLISH`, no messages) gives back every text unchanged.

A :class:`Translator` is a frozen record of strings, sent with a feedback request to the worker that renders it.
"""

import re
from dataclasses import dataclass
from functools import cached_property

FIELD = re.compile(r"\{[^{}]*\}")
MAX_DEPTH = 8  # messages inside messages (a number's description in a judge's message in a verdict's line)
SEPARATORS = ("; ",)  # a detail's notes are joined by "; "
# the most separators one message holds, plus margin (tests/test_autograder_words.py checks the catalogs): a
# text cut into n parts is read in O(n) tries, not O(n^2) (a value the student chose may hold many "; ")
MAX_PARTS_PER_MESSAGE = 6
# a verdict's case line starts "[3] " and its continuation lines are indented: the rest is a message
_LINE_PREFIX = re.compile(r"^(\s*(?:\[\d+\] )?)(.*)$", re.S)


def N_(message):  # noqa: N802 - gettext's name for "a message, translated later"
    """Mark ``message`` (a string or f-string literal) for the grader's catalog; returns it unchanged."""
    return message


def _template_pattern(msgid):
    """``(regex, fields)`` that read the values back out of a text written from the f-string ``msgid``."""
    msgid = _hide_braces(msgid)
    pieces, fields, last = [], [], 0
    for match in FIELD.finditer(msgid):
        pieces.append(re.escape(_show_braces(msgid[last:match.start()])))
        # a value that starts a message holds no "; " (it would swallow the notes of a detail before it); a value
        # after words may be empty (" (got NaN)" or nothing)
        pieces.append("((?:(?!; ).)+?)" if match.start() == 0 else "(.*?)")
        fields.append(match.group(0))
        last = match.end()
    pieces.append(re.escape(_show_braces(msgid[last:])))
    return re.compile("".join(pieces)), tuple(fields)


@dataclass(frozen=True)
class Translator:
    """The translations of one language: ``messages`` are ``(English, translation)`` pairs (templates with
    ``{placeholders}`` where ``templates`` is true for them, see :func:`coursebook.translation.grader_messages`)."""

    language: str = "en"
    messages: tuple = ()  # (msgid, msgstr): literal texts (exact match)
    templates: tuple = ()  # (msgid, msgstr): f-string templates, their {placeholders} written as in the code

    @property
    def is_identity(self):
        return not self.messages and not self.templates

    @cached_property
    def _literal(self):
        return dict(self.messages)

    @cached_property
    def _patterns(self):
        # the most specific template first: one that starts with words, then the one with the most words around
        # its values ("{n} malformed message(s)..." must not swallow "**Autograder:** status `ok`: 3")
        ordered = sorted(self.templates, key=lambda pair: (pair[0].startswith("{") and not pair[0].startswith("{{"),
                                                           -len(FIELD.sub("", pair[0]))))
        return [(*_template_pattern(msgid), msgstr) for msgid, msgstr in ordered]

    def gettext(self, message):
        """The translation of one literal message (a page template's words), or the message itself."""
        return self._literal.get(message, message)

    def text(self, english, depth=0):
        """``english`` (a text the grader wrote) in this language, as far as the catalogs go (module docstring)."""
        if self.is_identity or not english or depth > MAX_DEPTH:
            return english
        if "\n" in english:  # a message is one line: a verdict's lines are translated one by one
            return "\n".join(self.text(line, depth + 1) for line in english.split("\n"))
        found = self._whole(english, depth)
        if found is not None:
            return found
        indent = len(english) - len(english.lstrip())
        for cut in range(1, indent + 1):  # an indented line: a message after some of its indentation
            found = self._whole(english[cut:], depth)
            if found is not None:
                return english[:cut] + found
        prefix, rest = _LINE_PREFIX.match(english).groups()
        if prefix:
            return prefix + self.text(rest, depth + 1)
        for separator in SEPARATORS:
            if separator in english:
                return separator.join(self._runs(english.split(separator), separator, depth))
        return english

    def _runs(self, parts, separator, depth):
        """The translations of ``parts`` (a text cut at ``separator``): from each part on, the shortest run of
        parts that is one message (a message may hold the separator itself: "...; later cells not run")."""
        out, start = [], 0
        while start < len(parts):
            for end in range(start + 1, min(len(parts), start + MAX_PARTS_PER_MESSAGE) + 1):
                found = self._whole(separator.join(parts[start:end]), depth + 1)
                if found is not None:
                    out.append(found)
                    start = end
                    break
            else:
                out.append(parts[start])
                start += 1
        return out

    def _whole(self, english, depth):
        """The translation of ``english`` as one message (a literal, or a filled template), or None."""
        if english in self._literal:
            return self._literal[english]
        for pattern, fields, translated in self._patterns:
            match = pattern.fullmatch(english)
            if match is None:
                continue
            values = {}
            for field, value in zip(fields, match.groups(), strict=True):
                values.setdefault(field, self.text(value, depth + 1))
            filled = FIELD.sub(lambda m, found=values: found.get(m.group(0), m.group(0)), _hide_braces(translated))
            return _show_braces(filled)
        return None


def _hide_braces(template):
    """``template`` with its doubled braces (an f-string's literal ``{``, ``}``) out of the way of FIELD."""
    return template.replace("{{", "\0").replace("}}", "\1")


def _show_braces(text):
    return text.replace("\0", "{").replace("\1", "}")


ENGLISH = Translator()
