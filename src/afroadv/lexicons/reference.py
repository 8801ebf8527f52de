"""Held-out dictionaries for measuring induced lexicons: precision@1 = the share of induced words
(that the dictionary also lists) whose one translation is among the dictionary's translations of
the word, English compared by lemma (months = month, children = child).

WOLD (Hausa, Swahili) and GATITOS (the languages it covers) are never read by the induction, so
they judge it from outside. Entries that come *from* a dictionary are not measured against it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from afroadv.lexicons.english import lemma


@dataclass(frozen=True)
class Precision:
    reference: str
    n: int  # induced words the reference lists
    correct: int

    @property
    def value(self) -> float | None:
        return self.correct / self.n if self.n else None

    def wilson(self, z: float = 1.96) -> tuple[float, float] | None:
        if not self.n:
            return None
        p, n = self.correct / self.n, self.n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def to_dict(self) -> dict:
        ci = self.wilson()
        return {"reference": self.reference, "n": self.n, "correct": self.correct,
                "precision": None if self.value is None else round(self.value, 4),
                "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)]}  # fmt: skip


def _lemmas(english: str) -> set[str]:
    return {english, lemma(english)} | ({lemma(english.split()[-1])} if " " in english else set())


def precision_at_1(entries: Iterable[tuple[str, str]], reference: dict[str, set[str]], name: str,
                   synonyms: dict[str, list[str]] | None = None) -> Precision:
    """entries: (word, its one English translation); reference: word -> English translations.
    With `synonyms` (English word -> synonyms), a synonym of a reference translation also counts:
    dictionaries list one sense's wording (person, not man; jail, not prison)."""
    n = correct = 0
    for word, english in entries:
        allowed = reference.get(word)
        if not allowed:
            continue
        n += 1
        mine = _lemmas(english)
        if synonyms is not None:
            mine |= {lemma(s) for s in synonyms.get(english, ())} | set(synonyms.get(english, ()))
        correct += any(mine & _lemmas(a) for a in allowed)
    return Precision(name, n, correct)


def dictionary_reference(rows: Iterable[tuple[str, str, object, str]]) -> dict[str, set[str]]:
    """word -> English translations, from lexicon rows (word, english, weight, origin)."""
    out: dict[str, set[str]] = {}
    for word, english, *_ in rows:
        out.setdefault(word, set()).add(english)
    return out


def reference_rows(kind: str, path: Path, lang: str) -> list:
    """Rows of a held-out dictionary, read the way the lexicon build reads them."""
    from afroadv.lexicons.build import gatitos_rows, wold_rows

    return wold_rows(path, lang) if kind == "wold" else gatitos_rows(path)
