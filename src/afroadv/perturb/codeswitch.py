"""Code-switching: a word replaced by its English translation, as bilingual speakers write."""

from __future__ import annotations

import random

from afroadv.langs import Language
from afroadv.lexicons.store import load_lexicon
from afroadv.perturb.base import Transformation, register
from afroadv.text import match_case


@register
class CodeSwitch(Transformation):
    kind = "codeswitch"

    def __init__(self, lang: Language, top_k: int = 2, target: str = "eng"):
        super().__init__(lang)
        self.top_k = int(top_k)
        self.lexicon = load_lexicon(lang.lexicon)

    def _options(self, word: str) -> list[str]:
        key = word.casefold()
        return [e for e in self.lexicon.translations(key)[: self.top_k] if e != key]

    def applies(self, word: str) -> bool:
        return bool(self._options(word))

    def apply(self, word: str, rng: random.Random) -> str:
        return match_case(word, rng.choice(self._options(word)))

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return [match_case(word, e) for e in self._options(word)[:n]]

    @property
    def resource_versions(self) -> dict[str, str]:
        return {self.lexicon.code or self.lang.code: self.lexicon.version}
