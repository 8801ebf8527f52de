"""Script facts for character noise: Ge'ez vowel-order rows, and the fallback letter inventories of a
language without letter counts (letters.py). Never a Latin letter in a Ge'ez or Arabic word."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_ETHIOPIC_START, _ETHIOPIC_END = 0x1200, 0x135A
ARABIC_LETTERS = "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىيڤگچپ"


def _is_syllable(cp: int) -> bool:
    try:
        return unicodedata.name(chr(cp)).startswith("ETHIOPIC SYLLABLE")
    except ValueError:
        return False


@lru_cache(maxsize=None)
def ethiopic_row(ch: str) -> tuple[str, ...]:
    """The vowel-order row of a Ge'ez syllable (ሀ ሁ ሂ ሃ ሄ ህ ሆ): the typo Amharic writers make."""
    cp = ord(ch)
    if not (_ETHIOPIC_START <= cp < _ETHIOPIC_END) or not _is_syllable(cp):
        return ()
    base = cp - (cp - _ETHIOPIC_START) % 8
    return tuple(chr(c) for c in range(base, base + 7) if _is_syllable(c))


@lru_cache(maxsize=None)
def latin_letters(extra: str) -> str:
    return "".join(dict.fromkeys("abcdefghijklmnopqrstuvwxyz" + unicodedata.normalize("NFC", extra)))
