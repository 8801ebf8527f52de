"""Strip tone marks, under-dots, hooks and harakat the way people type without them.

Which marks and letters go is recipe data. Only marks go: a letter whose canonical decomposition
holds a mark the recipe does not list keeps it (Arabic أ ؤ ئ keep their hamza: those are letters,
not harakat). `letters` maps whole letters first (hooks ɓ → b; look-alike code points such as
Romanian ș standing in for Yoruba ṣ), so a look-alike is stripped like the letter it imitates.
Turning hamza seats into bare letters (أ → ا) changes letters, so it is its own transformation,
`hamza_seats`, which no shipped recipe uses.
"""

from __future__ import annotations

import random
import unicodedata

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register


def _codepoint(spec: str) -> str:
    s = str(spec).strip()
    if s.upper().startswith("U+"):
        return chr(int(s[2:], 16))
    if len(s) == 1:
        return s
    raise AfroadvError(f"diacritic mark {spec!r}: write a single character or U+XXXX")


def expand_marks(specs) -> set[str]:
    """Marks written as characters, U+XXXX or U+XXXX-U+YYYY ranges (recipes and data/orthography)."""
    out = set()
    for spec in specs:
        s = str(spec)
        if "-" in s and s.upper().startswith("U+"):
            lo, hi = s.split("-")
            out.update(chr(c) for c in range(int(lo[2:], 16), int(hi.upper().removeprefix("U+"), 16) + 1))
        else:
            out.add(_codepoint(s))
    return out


@register
class StripDiacritics(Transformation):
    kind = "strip_diacritics"
    learnable = True  # the marks are recipe data, the same in every language of a script

    def __init__(self, lang: Language, marks=(), letters=None):
        super().__init__(lang)
        self.marks = expand_marks(marks)
        self.letters = {unicodedata.normalize("NFC", k): v for k, v in (letters or {}).items()}
        if not self.marks and not self.letters:
            raise AfroadvError("strip_diacritics needs `marks` or `letters`")

    def apply(self, word: str, rng: random.Random | None = None) -> str:
        mapped = "".join(self.letters.get(c, c) for c in unicodedata.normalize("NFC", word))
        decomposed = unicodedata.normalize("NFD", mapped)
        kept = "".join(self.letters.get(c, c) for c in decomposed if c not in self.marks)
        return unicodedata.normalize("NFC", kept)

    def applies(self, word: str) -> bool:
        return self.apply(word) != word

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        new = self.apply(word)
        return [new] if new != word else []


HAMZA_SEATS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ي"}


@register
class HamzaSeats(Transformation):
    """Hamza seats written as bare letters (أنا → انا, مسؤول → مسوول), as some Arabic-script
    writers type: a change of letters, declared separately from stripping marks."""

    kind = "hamza_seats"
    learnable = True  # a fact of the Arabic script

    def apply(self, word: str, rng: random.Random | None = None) -> str:
        return "".join(HAMZA_SEATS.get(c, c) for c in unicodedata.normalize("NFC", word))

    def applies(self, word: str) -> bool:
        return any(c in HAMZA_SEATS for c in word)

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return [self.apply(word)] if self.applies(word) else []
