"""Korean full-text search for the Sphinx index: a word is found with its particles.

Sphinx has no Korean search language: the Korean edition was indexed with the English splitter, which keeps
"과적합을" and "과적합이" as two words that a search for "과적합" never matches. This language strips particles
and the endings that make a verb of a noun (정규화 + 를, 에서는, 하면, 된 ...) with one rule set, used by both sides:

- the index (Python, :meth:`SearchKorean.split`) stores each Hangul word with every form reachable by removing
  suffixes of :data:`SUFFIXES`, one after the other ("가중치들을" -> 가중치들을, 가중치들, 가중치);
- a query (JavaScript, generated from the same lists) removes the longest suffix again and again
  ("가중치들을" -> 가중치), which is always one of the stored forms of the same word with any other suffix.

Over-stripping ("결과" -> 결) costs nothing but an extra match: both sides strip the same way. Words that other
Korean texts use for the course's terms (``wrong`` renderings in ``locales/<lang>/terms.yml``) lead to the
course's term: a one-word variant is searched as the term (규제 -> 정칙화, 과대적합 -> 과적합), a variant written
without the term's space is split (조기종료 -> 조기 종료). Latin words keep Sphinx's English stemmer.
"""

import functools
import json
import re
from pathlib import Path

import yaml
from sphinx.search.en import SearchEnglish

# Particles (조사), the copula, the endings of 하다/되다/시키다 after a noun (and their stems 하, 되, so that
# "X하" + 는 and "X하는" meet), and the plural 들. Order does not matter: the longest matching suffix is removed
# first.
SUFFIXES = sorted(set("""
이 가 을 를 은 는 의 에 에서 에게 께 한테 으로 로 와 과 도 만 까지 부터 보다 처럼 만큼 마다 뿐 조차 마저 밖에
이나 나 이든 든 이며 며 이랑 랑 이란 란 이라 라 이라는 라는 이라고 라고 이라면 라면 이라서 라서 이므로 므로
에는 에서는 에도 에서도 에게는 으로는 로는 으로도 로도 으로서 로서 으로써 로써 와는 과는 와도 과도 와의 과의
에서의 으로의 로의 까지는 부터는 보다는 처럼은
는지 인지 하는지 되는지
이다 입니다 이고 인 이었 였 이지만 이면
하다 한다 하는 한 할 함 하여 해 해서 하고 하며 하면 하지 합니다 했다 했습니다 하기 하게 하려면 하므로 하지만
할수록 했고 하였 되다 된다 되는 된 될 됨 되어 돼 되고 되며 되면 되지 됩니다 되었 됐 되기 되게 되므로
시키 시킨 시키는 시켜 시킵니다 들 적 적인 적으로 하 되
""".split()), key=len, reverse=True)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
WORD = re.compile(r"\w+")
_BY_LAST = {}  # last syllable -> the suffixes ending with it, longest first
for _suffix in SUFFIXES:
    _BY_LAST.setdefault(_suffix[-1], []).append(_suffix)


def _strippable(word):
    """Suffixes of ``word`` that leave something in front ("L2는" -> L2, but "이" stays), longest first."""
    return [suffix for suffix in _BY_LAST.get(word[-1:], ()) if word.endswith(suffix) and len(word) > len(suffix)]


@functools.cache
def stored_forms(word):
    """``word`` and every form left by removing suffixes one after the other (what the index stores)."""
    forms, todo = [], [word]
    while todo:
        form = todo.pop()
        if form in forms:
            continue
        forms.append(form)
        todo += [form[:-len(suffix)] for suffix in _strippable(form)]
    return tuple(forms)


def query_form(word):
    """The longest suffix removed again and again (what a query searches for; one of :func:`stored_forms`)."""
    while True:
        suffixes = _strippable(word)
        if not suffixes:
            return word
        word = word[:-len(suffixes[0])]


def read_variants(terms_file):
    """``(synonyms, compounds)`` from a terms.yml: one-word variants -> the course's one-word term, and variants
    written without the term's spaces -> the term's words."""
    synonyms, compounds = {}, {}
    if terms_file is None or not Path(terms_file).is_file():
        return synonyms, compounds
    terms = yaml.safe_load(Path(terms_file).read_text(encoding="utf-8"))["terms"]
    for term in terms:
        course = term["ko"]
        for variant in term.get("wrong", []):
            if " " in variant or not HANGUL.search(variant):
                continue
            if variant == course.replace(" ", "") and " " in course:
                compounds[variant] = course.split()
            elif " " not in course and variant != course:
                synonyms[variant] = course
    return synonyms, compounds


_JS = """
/* Korean search (_ext/editions/search_ko.py): particles and endings removed, other texts' words lead to the
   course's terms; Latin words use the English (Porter) stemmer. */
%(english)s
var KoreanSearch = {
  suffixes: %(suffixes)s,
  synonyms: %(synonyms)s,
  compounds: %(compounds)s,
  hangul: /[\\uac00-\\ud7a3]/,
  queryForm: function (word) {
    for (;;) {
      const suffix = KoreanSearch.suffixes.find(
        (s) => word.endsWith(s) && word.length > s.length);
      if (suffix === undefined) return word;
      word = word.slice(0, word.length - suffix.length);
    }
  },
};
var Stemmer = function () {
  const english = new EnglishStemmer();
  this.stemWord = function (word) {
    if (!KoreanSearch.hangul.test(word)) return english.stemWord(word);
    const form = KoreanSearch.queryForm(word);
    if (!KoreanSearch.hangul.test(form)) return english.stemWord(form);  // "dropout을" -> dropout
    return KoreanSearch.synonyms[form] || form;
  };
};
var splitQuery = function (query) {
  const words = query.split(/[^\\p{Letter}\\p{Number}_\\p{Emoji_Presentation}]+/gu).filter((term) => term);
  return words.flatMap((word) => KoreanSearch.compounds[KoreanSearch.queryForm(word)] || [word]);
};
"""


class SearchKorean(SearchEnglish):
    lang = "ko"
    language_name = "Korean"
    synonyms = {}
    compounds = {}

    @classmethod
    def configured(cls, terms_file):
        """The class with the variants of ``terms_file`` (Sphinx instantiates the class it was given)."""
        synonyms, compounds = read_variants(terms_file)
        english = SearchEnglish.js_stemmer_code
        if "var Stemmer = function" not in english:
            raise RuntimeError("Sphinx's English stemmer code changed: update _ext/editions/search_ko.py")
        code = _JS % {"english": english.replace("var Stemmer = function", "var EnglishStemmer = function", 1),
                      "suffixes": json.dumps(SUFFIXES, ensure_ascii=False),
                      "synonyms": json.dumps(synonyms, ensure_ascii=False, sort_keys=True),
                      "compounds": json.dumps(compounds, ensure_ascii=False, sort_keys=True)}
        return type(cls.__name__, (cls,), {"synonyms": synonyms, "compounds": compounds, "js_stemmer_code": code})

    def split(self, input):
        words = []
        for word in WORD.findall(input):
            if not HANGUL.search(word):
                words.append(word)
                continue
            for form in stored_forms(word):
                words += [form, *self.compounds.get(form, [])]
        return words

    def stem(self, word):
        if not HANGUL.search(word):
            return super().stem(word)
        return self.synonyms.get(word, word)
