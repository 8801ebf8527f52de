"""The Pair: the one record every stage passes on."""

from __future__ import annotations

from dataclasses import asdict, dataclass


# Tasks whose sentence1 alone is the language's text: sentence2 is an untouched anchor (an English
# translation, the original sentence, another language's verse), so recipes perturb sentence1 only.
ONE_SIDED_TASKS = ("bitext", "invariance", "ordinal")


@dataclass(frozen=True)
class Pair:
    id: str
    lang: str
    task: str  # "sts" (gold score), "bitext" (sentence1 = X, sentence2 = its English translation),
    # "invariance" (sentence1 = a text, sentence2 = the same text), "ordinal" (score = relatedness level, data/ordinal.py)
    sentence1: str
    sentence2: str
    score: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)
