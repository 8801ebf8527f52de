"""Ge'ez → Latin romanisation as Amharic and Tigrinya are typed online when no Ge'ez keyboard is at hand.

Each syllable is consonant (from the recipe's table, keyed by the Unicode name) + the vowel of its order.
"""

from __future__ import annotations

import random
import unicodedata
from functools import lru_cache

from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.text import ETHIOPIC, word_script

_START = 0x1200
_PREFIX = "ETHIOPIC SYLLABLE "
DEFAULT_VOWELS = ["e", "u", "i", "a", "ie", "", "o", "wa"]


@lru_cache(maxsize=None)
def _consonant_name(cp: int) -> str | None:
    """'L' for ለ ሉ ሊ ...: read off the sixth-order syllable's Unicode name."""
    base = cp - (cp - _START) % 8
    try:
        name = unicodedata.name(chr(base + 5))
    except ValueError:
        return None
    if not name.startswith(_PREFIX) or not name.endswith("E"):
        return None
    return name[len(_PREFIX) : -1].strip()


@register
class Romanize(Transformation):
    kind = "romanize"

    def __init__(self, lang: Language, consonants: dict | None = None, vowels: list | None = None):
        super().__init__(lang)
        self.consonants = {str(k).upper(): str(v) for k, v in (consonants or {}).items()}
        self.vowels = list(vowels or DEFAULT_VOWELS)

    def _syllable(self, ch: str) -> str | None:
        cp = ord(ch)
        if not (_START <= cp < 0x1358):
            return None
        cons = _consonant_name(cp)
        if cons is None:
            return None
        latin = self.consonants.get(cons, cons.lower())
        vowel = self.vowels[(cp - _START) % 8]
        if (cp - _START) % 8 == 5 and not latin:
            vowel = "e"  # a sixth-order glottal/pharyngeal is pronounced, so typed
        return latin + vowel

    def applies(self, word: str) -> bool:
        return word_script(word) == ETHIOPIC and any(self._syllable(c) for c in word)

    def apply(self, word: str, rng: random.Random | None = None) -> str:
        return "".join(self._syllable(c) or c for c in word)

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return [self.apply(word)]
