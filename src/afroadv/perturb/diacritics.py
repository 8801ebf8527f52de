"""Strip tone marks, under-dots, hooks and harakat the way people type without them.

Which marks and letters go is recipe data; Ge'ez and Arabic letters themselves are never touched
(only combining marks listed in the recipe are removed).
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


def _expand(specs) -> set[str]:
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

    def __init__(self, lang: Language, marks=(), letters=None):
        super().__init__(lang)
        self.marks = _expand(marks)
        self.letters = {unicodedata.normalize("NFC", k): v for k, v in (letters or {}).items()}
        if not self.marks and not self.letters:
            raise AfroadvError("strip_diacritics needs `marks` or `letters`")

    def apply(self, word: str, rng: random.Random | None = None) -> str:
        decomposed = unicodedata.normalize("NFD", word)
        kept = "".join(self.letters.get(c, c) for c in decomposed if c not in self.marks)
        return unicodedata.normalize("NFC", kept)

    def applies(self, word: str) -> bool:
        return self.apply(word) != word

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        new = self.apply(word)
        return [new] if new != word else []
