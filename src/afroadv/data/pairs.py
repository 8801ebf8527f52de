"""The Pair: the one record every stage passes on."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Pair:
    id: str
    lang: str
    task: str  # "sts" (gold score) or "bitext" (sentence1 = X, sentence2 = its English translation)
    sentence1: str
    sentence2: str
    score: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)
