"""Code-switching: an African-language noun replaced by its English translation, the way bilingual
writers insert English content words into an African-language sentence.

The African language stays the matrix language (Myers-Scotton's Matrix Language Frame): its
function words, word order and morphology are kept, and English *nouns* come in — the most
frequently switched word class. So only lexicon entries whose English side is a noun are used
(`pos`), never function, number or name words (the recipe protects them), never part of a
hyphenated or apostrophe-joined word (`compounds`), and never a word carrying one of the
language's attached prepositions or articles (languages.yaml `codeswitch.skip_prefixes`, e.g.
Amharic በ-/ለ-/የ-: switching "በመንግስት" to "government" would drop "by"), or a case ending
(`case_suffixes`: Swahili soko-ni "at the market"), or a noun that makes a fixed compound with the
word before it (`compound_heads`: Hausa 'yan bindiga "gunmen"); in Nguni languages only nouns in their
citation form, which starts with the augment vowel a/i/u (`noun_initials`): esibhedlela "at the
hospital" and nesibhedlela "with the hospital" are not "hospital". Where the language's
writers give an English noun a noun-class prefix, it comes with a hyphen (`codeswitch.loan_prefix`:
isiZulu and isiXhosa speakers put most new words in class 9, i- — Ngcobo 2013, Language Matters
44(1); Futuse 2018, UCT MA thesis — written i-meeting, i-phone).

Only the parts (origins) of a lexicon whose measured precision@1 is at least 85% are used by
default (data/lexicons/README.md); a recipe file may set `min_lexicon_precision: 0` to use a whole
lexicon, measured or not.
"""

from __future__ import annotations

import random

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.lexicons.store import lexicon_quality, load_lexicon
from afroadv.perturb.base import Transformation, register
from afroadv.text import match_case

MIN_LEXICON_PRECISION = 0.85


def lexicon_refusal(lang: Language, min_precision: float) -> str | None:
    """Why code-switching will not use this language's lexicon by default, or None."""
    lex = load_lexicon(lang.lexicon)
    if not len(lex):
        return f"no lexicon ships for {lang.code} (build one with `afroadv lexicon induce`)"
    if min_precision <= 0:
        return None
    q = lexicon_quality().get(lang.lexicon or "", {})
    if not q.get("default_use"):
        why = q.get("reason") or "its precision was not measured"
        return (f"the {lang.code} lexicon is not used by default: {why} (data/lexicons/README.md); to use it "
                f"anyway, copy recipes/codeswitch.yaml and set `min_lexicon_precision: 0`")  # fmt: skip
    return None


@register
class CodeSwitch(Transformation):
    kind = "codeswitch"

    def __init__(self, lang: Language, top_k: int = 1, pos: tuple[str, ...] | list[str] = ("noun",),
                 min_lexicon_precision: float = MIN_LEXICON_PRECISION):
        super().__init__(lang)
        self.top_k = int(top_k)
        self.pos = tuple(pos)
        self.min_lexicon_precision = float(min_lexicon_precision)
        if self.top_k < 1:
            raise AfroadvError(f"codeswitch: top_k must be at least 1, got {top_k}")
        self.lexicon = load_lexicon(lang.lexicon)
        # by default only the lexicon's origins whose measured precision passes the bar
        self.origins = None
        if self.min_lexicon_precision > 0:
            self.origins = frozenset(lexicon_quality().get(lang.lexicon or "", {}).get("origins", ()))
        spec = lang.codeswitch or {}
        for k, v in spec.items():
            if isinstance(v, list) and not all(isinstance(x, str) for x in v):
                raise AfroadvError(f"languages.yaml: {lang.code} codeswitch.{k} must be a list of strings (quote yes/no/on/off)")
        self.skip_prefixes = tuple(spec.get("skip_prefixes") or ())
        self.noun_initials = tuple(spec.get("noun_initials") or ())  # a noun's citation form starts so
        self.skip_suffixes = tuple(spec.get("skip_suffixes") or ())
        # a suffix that is a case ending only when what precedes it is a word (Swahili locative
        # soko-ni "at the market", but kampuni "company"): the word is skipped then
        self.case_suffixes = tuple(spec.get("case_suffixes") or ())
        if self.case_suffixes:
            from afroadv.words import word_classes

            self._stems = frozenset(self.lexicon.to_english) | word_classes(lang.code).common
        self.loan_prefix = str(spec.get("loan_prefix") or "")
        # words after which a noun makes a fixed compound (Hausa 'yan bindiga "gunmen", masu zaɓe
        # "voters"): the noun stays (Perturber reads it in context)
        self.compound_heads = frozenset(str(w).casefold() for w in spec.get("compound_heads") or ())

    def form_ok(self, key: str) -> bool:
        """Whether a (casefolded) word's form may be switched at all: not a form carrying an attached
        preposition, a case ending or (Nguni) a non-citation prefix."""
        if (self.skip_prefixes and key.startswith(self.skip_prefixes)) or (self.skip_suffixes and key.endswith(self.skip_suffixes)):
            return False
        if self.noun_initials and not key.startswith(self.noun_initials):
            return False
        return not any(key.endswith(suffix) and key[: -len(suffix)] in self._stems for suffix in self.case_suffixes)

    def _options(self, word: str) -> list[str]:
        key = word.casefold()
        if not self.form_ok(key):
            return []
        found = self.lexicon.noun_translations(key, self.origins) if self.pos == ("noun",) else self.lexicon.translations(key)
        return [e for e in found[: self.top_k] if e != key]

    def applies(self, word: str) -> bool:
        return bool(self._options(word))

    def _insert(self, word: str, english: str) -> str:
        """The English noun as written in the matrix language: bare, or after its loan prefix."""
        return match_case(word, f"{self.loan_prefix}-{english}" if self.loan_prefix else english)

    def apply(self, word: str, rng: random.Random) -> str:
        options = self._options(word)
        return self._insert(word, options[int(rng.random() * len(options))])

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return [self._insert(word, e) for e in self._options(word)[:n]]

    @property
    def resource_versions(self) -> dict[str, str]:
        return {self.lexicon.code or self.lang.code: self.lexicon.version}
