"""The language of a submitted notebook: the edition it was released in.

A translated release carries its language in the notebook's metadata (``metadata.language``, written by
``autograder release``). A notebook that lost it (copied cells into a fresh notebook, another editor) is
recognized from its Markdown: mostly Hangul is the Korean edition. Anything else is the source language.
"""

import re

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
LETTER = re.compile(r"[^\W\d_]")
# Korean Markdown keeps code names, formulas and English terms in parentheses: about 60-80 % of its letters are
# Hangul in this course's notebooks, an English notebook with a Korean name or two stays under 5 %.
HANGUL_SHARE = 0.3


def hangul_share(text):
    letters = LETTER.findall(text)
    return sum(1 for ch in letters if HANGUL.match(ch)) / len(letters) if letters else 0.0


def notebook_language(nb, languages, default="en"):
    """The language of ``nb`` (a parsed notebook) among ``languages``; ``default`` when it is none of them."""
    declared = str((nb.get("metadata") or {}).get("language") or "")
    if declared in languages:
        return declared
    markdown = "\n".join(str(cell.get("source", "")) for cell in nb.get("cells", [])
                         if cell.get("cell_type") == "markdown")
    if "ko" in languages and hangul_share(markdown) >= HANGUL_SHARE:
        return "ko"
    return default
