"""Same-language substitution: forms sharing an English gloss (inflected or synonymous variants)
and dialect/orthographic variants through a related language's lexicon (Kinyarwanda ↔ Kirundi)."""

from __future__ import annotations

import random
from functools import lru_cache

from afroadv.langs import Language
from afroadv.lexicons.store import load_lexicon
from afroadv.perturb.base import Transformation, register
from afroadv.text import match_case


@register
class LexSub(Transformation):
    kind = "lexsub"

    def __init__(self, lang: Language, max_glosses: int = 2, variants: bool = True, pivot: bool = True):
        super().__init__(lang)
        self.lexicon = load_lexicon(lang.lexicon)
        self.related = [load_lexicon(v) for v in lang.variants] if variants else []
        self.max_glosses = int(max_glosses)
        self.pivot = bool(pivot)
        self._options = lru_cache(maxsize=65536)(self._compute_options)

    def _compute_options(self, key: str) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for gloss in self.lexicon.translations(key)[: self.max_glosses]:
            if self.pivot:
                for w in self.lexicon.translate_english(gloss):
                    out.setdefault(w)
            for lex in self.related:
                for w in lex.translate_english(gloss):
                    out.setdefault(w)
        out.pop(key, None)
        return tuple(w for w in out if " " not in w)

    def applies(self, word: str) -> bool:
        return bool(self._options(word.casefold()))

    def apply(self, word: str, rng: random.Random) -> str:
        return match_case(word, rng.choice(self._options(word.casefold())))

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return [match_case(word, w) for w in self._options(word.casefold())[:n]]

    @property
    def resource_versions(self) -> dict[str, str]:
        versions = {self.lexicon.code or self.lang.code: self.lexicon.version}
        versions.update({lex.code: lex.version for lex in self.related})
        return versions
