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
    styles_gaps: bool = False  # restyle_gaps rewrites punctuation (an instance may set it from its data)
    draws_from_set: ClassVar[bool] = False  # needs the set's own words (bind_set) before it can apply
    sentence_level: ClassVar[bool] = False  # a sentence edit (perturb/sentence.py): one site per sentence, not words
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

    def bind_set(self, pool) -> None:
        """Receive the set's words (a `wordswap.SetWords`), for transformations that draw from them."""

    def apply_in_record(self, word: str, rng: random.Random, own: frozenset[str]) -> str:
        """`apply` for a word of a record whose own words (casefolded, both sides) are `own`: a
        transformation that draws from the set draws none of them. `apply` by default."""
        return self.apply(word, rng)

    def rewrite_gap(self, gap: str) -> str:
        """The text between words, in a text where this recipe rewrote a word (translit turns
        Ethiopic punctuation into Latin); unchanged by default."""
        return gap

    def restyle_gaps(self, gaps: list[str], tokens: list[str], rng) -> list[str]:
        """The text between words as some writers type it (Amharic ። → ::), in a text the recipe chose
        for it whether or not a word changed (a share `rate` of texts); `tokens[i]` follows `gaps[i]`
        and the choices come from `rng`, one per text. Unchanged by default."""
        return gaps

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
    from afroadv.perturb import (  # noqa: F401
        arabizi, chars, codeswitch, diacritics, entityswap, homophones, keyboard, lexsub, negation, numswap,
        orthography, translit, wordswap,
    )

    return TRANSFORMATIONS


def build_transformation(kind: str, lang: Language, params: dict) -> Transformation:
    cls = registered().get(kind)
    if cls is None:
        raise AfroadvError(f"unknown transformation kind {kind!r}; known: {', '.join(sorted(TRANSFORMATIONS))}")
    try:
        return cls(lang, **params)
    except (TypeError, ValueError, AttributeError, KeyError) as e:  # a param of the wrong type or shape
        raise AfroadvError(f"transformation {kind!r}: bad params ({type(e).__name__}: {' '.join(str(e).split())})") from None
