"""Ge'ez homophone letters swapped as writers do: ሰ for ሠ, ሐ for ሀ, ፀ for ጸ, in the same vowel order.

Which rows sound the same is the language's one statement of the rule, `spelling.geez_rows` in
data/languages.yaml (afroadv.spelling): Amharic ሀ ሐ ኀ, ሰ ሠ, አ ዐ, ጸ ፀ; Tigrinya only ሰ ሠ and ጸ ፀ
(its ሀ/ሐ and አ/ዐ are distinct sounds). A syllable becomes the syllable of the same order in another
row of its group (ሐ → ሀ or ኀ, ሡ → ሱ, ፆ → ጾ), and only into a syllable the language writes at
least `min_ratio` times as often as the one it replaces (on its letter counts, data/letters; the
recipe says 0.5): writers put the common letter for the rare one (ሥራ → ስራ: NTREX Amharic ስራ 30,
ሥራ 10) far more than the reverse, and Tigrinya never gets a ሠ it does not use.
"""

from __future__ import annotations

import random

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.perturb.letters import letter_counts
from afroadv.perturb.scripts import ethiopic_row
from afroadv.spelling import spelling_for
from afroadv.text import ETHIOPIC

_ETH_START = 0x1200


def _row_start(c: str) -> int:
    cp = ord(c)
    return cp - (cp - _ETH_START) % 8


def homophone_table(rows: tuple[tuple[str, ...], ...], counts: dict[str, int], min_ratio: float) -> dict[str, tuple[str, ...]]:
    """syllable -> the same-order syllables of the other rows of its group that writers use instead:
    written at least `min_ratio` times as often as it (ሥ → ስ; ሰ → ሠ only where ሠ is that common)."""
    out: dict[str, tuple[str, ...]] = {}
    for group in rows:
        starts = [_row_start(c) for c in group]
        for order in range(8):
            cells = [chr(s + order) for s in starts]
            for c in cells:
                others = tuple(o for o in cells if o != c and counts.get(o, 0) > 0 and counts[o] >= min_ratio * counts.get(c, 0))
                if c in counts and others:
                    out[c] = others
    return out


def refusal(lang: Language) -> str | None:
    """Why the homophones recipe cannot run on a language, or None."""
    if not spelling_for(lang).geez_rows:
        return f"no Ge'ez homophone rows are declared for {lang.code} (data/languages.yaml `spelling: geez_rows`)"
    return None


@register
class HomophoneSwap(Transformation):
    """One syllable of the word written with an equal-sounding letter of the same vowel order:
    ሥራ → ስራ, ሕግ → ህግ, ድምፅ → ድምጽ."""

    kind = "homophone_swap"

    def __init__(self, lang: Language, min_ratio: float = 0.1):
        super().__init__(lang)
        why = refusal(lang)
        if why:
            raise AfroadvError(why)
        rows = spelling_for(lang).geez_rows
        tables, self.version = letter_counts(lang.code)
        if ETHIOPIC in tables:
            t = tables[ETHIOPIC]
            counts = {c: t.weight(i) for i, c in enumerate(t.letters)}
        else:  # no letter counts: every syllable of the rows, equally common
            counts = {c: 1 for g in rows for s in g for c in ethiopic_row(s)}
        self.counts = counts
        self.table = homophone_table(rows, counts, float(min_ratio))

    def applies(self, word: str) -> bool:
        return any(c in self.table for c in word)

    def apply(self, word: str, rng: random.Random) -> str:
        sites = [i for i, c in enumerate(word) if c in self.table]
        i = sites[int(rng.random() * len(sites))]
        options = self.table[word[i]]
        x = rng.random() * sum(self.counts[o] for o in options)  # the commoner spelling more often
        for o in options:
            x -= self.counts[o]
            if x < 0:
                break
        return word[:i] + o + word[i + 1 :]

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        out = [word[:i] + o + word[i + 1 :] for i, c in enumerate(word) for o in self.table.get(c, ())]
        return out[:n]

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"letters": f"{self.lang.code}@{self.version}"} if self.version else {}
