"""How writers of a language vary the spelling of the same word, as rules (languages.yaml `spelling`):

- marks dropped: a tone mark, under-dot or diaeresis left off (ọ̀ → ọ → o), never added;
- `letters`: one-way letter replacements writers make (Hausa ƙ → k or q, ɓ → b: a hook left off);
- `geez_rows`: Ge'ez consonant rows that sound the same (ሀ ሐ ኀ, ሰ ሠ, አ ዐ, ጸ ፀ), same vowel order,
  either way; `geez_orders`: orders of those rows that sound the same (ሀ/ሃ), either way;
- apostrophes (' ’ ʼ) written either way.

`skeleton(word)` is equal for all spellings the rules connect; `allowed(a, b)` says whether a
writer who means `a` may write `b`. The lexsub recipe swaps a word only for a spelling that is both
allowed and attested in the language's corpora (data/variants), so it never invents a spelling and
never puts a mark into a text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from afroadv.text import APOSTROPHES

_ETH_START, _ETH_END = 0x1200, 0x1380


def _graphemes(word: str) -> list[tuple[str, frozenset[str]]]:
    """(base letter, its combining marks) per letter of the NFD form."""
    out: list[tuple[str, frozenset[str]]] = []
    for c in unicodedata.normalize("NFD", word):
        if unicodedata.combining(c) and out:
            base, marks = out[-1]
            out[-1] = (base, marks | {c})
        else:
            out.append((c, frozenset()))
    return out


@dataclass(frozen=True)
class Spelling:
    letters: dict = field(default_factory=dict)  # letter -> letters it may be written as
    geez_rows: tuple = ()  # tuples of first-order syllables whose rows sound the same
    geez_orders: dict = field(default_factory=dict)  # first-order syllable -> tuples of same-sounding orders (1-based)

    @classmethod
    def from_spec(cls, spec: dict | None) -> Spelling:
        spec = spec or {}
        letters = {unicodedata.normalize("NFC", str(k)): tuple(unicodedata.normalize("NFC", str(x)) for x in (v if isinstance(v, list) else [v]))
                   for k, v in (spec.get("letters") or {}).items()}  # fmt: skip
        rows = tuple(tuple(r) for r in spec.get("geez_rows") or ())
        orders = {str(k): tuple(tuple(int(o) for o in group) for group in v) for k, v in (spec.get("geez_orders") or {}).items()}
        return cls(letters, rows, orders)

    def _geez_key(self, c: str) -> str:
        cp = ord(c)
        if not (_ETH_START <= cp < _ETH_END):
            return c
        start, order = cp - (cp - _ETH_START) % 8, (cp - _ETH_START) % 8 + 1
        canon = _canon(self)[0].get(start, start)
        for group in self.geez_orders.get(chr(canon), ()):
            if order in group:
                order = group[0]
        return chr(canon + order - 1)

    def _letter_key(self, c: str) -> str:
        if c in APOSTROPHES:
            return "'"
        targets = self.letters.get(c)
        if targets:
            return targets[0]
        for tgts in self.letters.values():
            if c in tgts[1:]:
                return tgts[0]
        return self._geez_key(c)

    def homophones(self) -> dict[int, str]:
        """A str.translate table sending every Ge'ez syllable to its equal-sounding canonical one
        (so ሐሙስ and ሀሙስ, አሕመድ and አህመድ are one name)."""
        return {cp: k for cp in range(_ETH_START, _ETH_END) if (k := self._geez_key(chr(cp))) != chr(cp)}

    def skeleton(self, word: str) -> str:
        return "".join(self._letter_key(base) for base, _ in _graphemes(word.casefold()))

    def allowed(self, a: str, b: str) -> bool:
        """May a writer who means `a` write `b`? Letter by letter: the same letter, a rule's
        replacement or an equal-sounding Ge'ez syllable, with no mark `a` lacks."""
        ga, gb = _graphemes(a.casefold()), _graphemes(b.casefold())
        if a == b or len(ga) != len(gb):
            return False
        for (ba, ma), (bb, mb) in zip(ga, gb):
            if not mb <= ma:
                return False
            if ba == bb:
                continue
            if ba in APOSTROPHES and bb in APOSTROPHES:
                continue
            if bb in self.letters.get(ba, ()):
                continue
            if _ETH_START <= ord(ba) < _ETH_END and _ETH_START <= ord(bb) < _ETH_END and self._geez_key(ba) == self._geez_key(bb):
                continue
            return False
        return True


@lru_cache(maxsize=None)
def _canon_cache(key: tuple) -> tuple[dict[int, int]]:
    rows = key
    out = {}
    for group in rows:
        starts = [ord(c) for c in group]
        for s in starts:
            out[s] = starts[0]
    return (out,)


def _canon(sp: Spelling) -> tuple[dict[int, int]]:
    return _canon_cache(sp.geez_rows)


def spelling_for(lang) -> Spelling:
    return Spelling.from_spec(getattr(lang, "spelling", None))
