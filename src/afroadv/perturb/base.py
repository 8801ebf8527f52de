"""The Transformation contract and the registry recipes refer to by `kind`."""

from __future__ import annotations

import random
from typing import ClassVar

from afroadv.errors import AfroadvError
from afroadv.langs import Language

TRANSFORMATIONS: dict[str, type[Transformation]] = {}


def register(cls: type[Transformation]) -> type[Transformation]:
    TRANSFORMATIONS[cls.kind] = cls
    return cls


class Transformation:
    """Rewrites one word. `applies` must be exact: a word it accepts is always changed by `apply`."""

    kind: ClassVar[str]
    applies_to_letters: ClassVar[bool] = False  # applies to every word made only of letters (a shortcut)
    reads_anchor: ClassVar[bool] = False  # apply_beside differs from apply
    # runs on a language learned from its dataset (learned.py): needs only the script and letters,
    # no resource curated per language (lexicon, keyboard, variants, word lists)
    learnable: ClassVar[bool] = False

    def __init__(self, lang: Language, **params):
        self.lang = lang
        if params:
            raise AfroadvError(f"transformation {self.kind!r} takes no parameter(s) {', '.join(sorted(params))}")

    def applies(self, word: str) -> bool:
        raise NotImplementedError

    def apply(self, word: str, rng: random.Random) -> str:
        raise NotImplementedError

    def apply_beside(self, word: str, rng: random.Random, anchor_names: tuple[str, ...]) -> str:
        """`apply` in a text paired with an untouched anchor (a bitext pair's English side), given
        the anchor's capitalised words: translit spells a name as the anchor does. `apply` by default."""
        return self.apply(word, rng)

    def rewrite_gap(self, gap: str) -> str:
        """The text between words, in a text where this recipe rewrote a word (translit turns
        Ethiopic punctuation into Latin); unchanged by default."""
        return gap

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        """Up to `n` distinct rewrites of `word` (the attack's search space)."""
        seen: dict[str, None] = {}
        for _ in range(n * 3):
            new = self.apply(word, rng)
            if new != word:
                seen.setdefault(new)
            if len(seen) >= n:
                break
        return list(seen)

    @property
    def resource_versions(self) -> dict[str, str]:
        return {}


def registered() -> dict[str, type[Transformation]]:
    """Every transformation kind, after importing the modules that register them (kept here so recipe
    loading needs nothing else)."""
    from afroadv.perturb import chars, codeswitch, diacritics, keyboard, lexsub, translit  # noqa: F401

    return TRANSFORMATIONS


def build_transformation(kind: str, lang: Language, params: dict) -> Transformation:
    cls = registered().get(kind)
    if cls is None:
        raise AfroadvError(f"unknown transformation kind {kind!r}; known: {', '.join(sorted(TRANSFORMATIONS))}")
    try:
        return cls(lang, **params)
    except (TypeError, ValueError, AttributeError, KeyError) as e:  # a param of the wrong type or shape
        raise AfroadvError(f"transformation {kind!r}: bad params ({type(e).__name__}: {' '.join(str(e).split())})") from None
