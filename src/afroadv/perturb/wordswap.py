"""Words replaced by words of other sentences of the same set: a control that destroys meaning
while keeping the set's vocabulary, word lengths and register (CheckList's idea of a test whose
expected outcome is known: the similarity of the pair must fall).

The pool is the set's own rewritable words (what the recipe would rewrite: names, numbers, URLs
never enter it), counted over every text of the set, so a frequent word is drawn as often as it
occurs. It is built from the whole dataset in a fixed (sorted) order, so a record's result does
not depend on `--limit` or on the order of the pairs; a record never receives one of its own words.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate
from typing import Callable

from afroadv.perturb.base import Transformation, register
from afroadv.text import match_case


@dataclass(frozen=True)
class SetWords:
    """A set's rewritable words (casefolded, sorted) with running token counts, for drawing by frequency."""

    words: tuple[str, ...] = ()
    cumulative: tuple[int, ...] = ()

    @classmethod
    def count(cls, words, fold: bool = True) -> SetWords:
        """The pool of `words` (casefolded unless fold=False: names keep their spelling)."""
        counts = Counter(w.casefold() for w in words) if fold else Counter(words)
        ordered = tuple(sorted(counts))
        return cls(ordered, tuple(accumulate(counts[w] for w in ordered)))

    def draw(self, u: float, own: frozenset[str]) -> str | None:
        """The word at token position u × total, or the next word in sorted order (cyclically) that
        is not one of `own`; None when the pool holds only `own` words."""
        return self.draw_where(u, lambda w: w not in own)

    def draw_where(self, u: float, ok: Callable[[str], bool]) -> str | None:
        """`draw` with any test of the word."""
        if not self.words:
            return None
        n = len(self.words)
        start = bisect_right(self.cumulative, int(u * self.cumulative[-1]))
        for step in range(n):
            w = self.words[(start + step) % n]
            if ok(w):
                return w
        return None

    @property
    def version(self) -> str:
        h = hashlib.sha256("\n".join(f"{w}\t{c}" for w, c in zip(self.words, self.cumulative)).encode("utf-8"))
        return h.hexdigest()[:12]


@register
class WordSwap(Transformation):
    """A word replaced by a word drawn from the rest of the set (its capitalisation kept):
    `ruwa` in "ana ruwa yau" → `makaranta`, a word other sentences of the set use."""

    kind = "wordswap"
    learnable = True  # words come from the set itself, in any language
    applies_to_letters = True
    draws_from_set = True

    def __init__(self, lang, **params):
        super().__init__(lang, **params)
        self.pool = SetWords()

    def bind_set(self, pool: SetWords) -> None:
        self.pool = pool

    def applies(self, word: str) -> bool:
        return word.isalpha()

    def apply(self, word: str, rng: random.Random) -> str:
        return self.apply_in_record(word, rng, frozenset({word.casefold()}))

    def apply_in_record(self, word: str, rng: random.Random, own: frozenset[str]) -> str:
        new = self.pool.draw(rng.random(), own | {word.casefold()})
        return word if new is None else match_case(word, new)

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"set_words": f"{self.lang.code}@{self.pool.version}"} if self.pool.words else {}
