"""Per-script letter inventories for character noise: never a Latin letter in a Ge'ez or Arabic word."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from afroadv.text import ARABIC, ETHIOPIC, LATIN

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
def ethiopic_first_orders() -> str:
    return "".join(chr(c) for c in range(_ETHIOPIC_START, _ETHIOPIC_END, 8) if _is_syllable(c))


@lru_cache(maxsize=None)
def latin_letters(extra: str) -> str:
    return "".join(dict.fromkeys("abcdefghijklmnopqrstuvwxyz" + unicodedata.normalize("NFC", extra)))


def letters_for(script: str, lang_alphabet: str, word: str) -> str:
    """Letters a typo may introduce into a word of `script`; unknown scripts reuse the word's own letters."""
    if script == LATIN:
        return latin_letters(lang_alphabet)
    if script == ETHIOPIC:
        return ethiopic_first_orders()
    if script == ARABIC:
        return ARABIC_LETTERS
    return "".join(dict.fromkeys(c for c in word if c.isalpha()))
