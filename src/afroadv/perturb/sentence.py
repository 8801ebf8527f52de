"""Sentence edits: transformations that rewrite one place of a sentence — a number, a name, a
clause — rather than a share of its words. Directional recipes (numswap, entityswap, negation) are
made of them: a touched sentence gets exactly one edit, at one of its sites chosen by the seed.

A site is a span of the NFC text, found on the token split every recipe uses (text.split_tokens),
so protected tokens (URLs, e-mails, @users, #hashtags) are never inside one.

Pair-aware edits (numswap, entityswap) change only what the pair shares: in a pair, a site counts
only when what it holds (a number's value, a name) is also on the other side (the other sentence of
an STS pair, the English translation of a bitext pair) and nowhere else on its own side — so after
the edit the two sentences no longer share it. Changing a number or name the other side never
mentions leaves the pair's relation as it was, and a directional test could not expect a fall.
"""

from __future__ import annotations

import random
from typing import ClassVar, NamedTuple

from afroadv.perturb.base import Transformation
from afroadv.text import is_protected_token, split_tokens


class Site(NamedTuple):
    start: int  # token index of the first token the edit reads
    end: int  # one past the last
    data: object = None  # what the edit found there (a rule, a kind of name)


class Tokens(NamedTuple):
    """A text as [gap, token, gap, …, gap]: `tokens[i]` is parts[2i+1], `gaps[i]` parts[2i]."""

    parts: list[str]

    @classmethod
    def of(cls, text: str) -> Tokens:
        return cls(split_tokens(text))

    @property
    def tokens(self) -> list[str]:
        return self.parts[1::2]

    def gap_before(self, i: int) -> str:
        return self.parts[2 * i]

    def gap_after(self, i: int) -> str:
        return self.parts[2 * i + 2]

    def protected(self, i: int) -> bool:
        return is_protected_token(self.parts[2 * i + 1])

    def replaced(self, start: int, end: int, new: str) -> str:
        """The text with tokens start..end-1 and the gaps between them replaced by `new`."""
        return "".join(self.parts[: 2 * start + 1]) + new + "".join(self.parts[2 * end :])

    def span(self, start: int, end: int) -> str:
        return "".join(self.parts[2 * start + 1 : 2 * end])


class SentenceEdit(Transformation):
    """One edit at one site of a sentence. `sites` must be exact: `edit` changes the text at every
    site it returns (or returns None when the set offers nothing to put there)."""

    sentence_level = True
    learns_from_set = False  # learn_set(texts) before use: the set's own material (names by kind)
    pair_aware: ClassVar[bool] = False  # in a pair, only sites whose content the other side shares (shared_sites)

    def applies(self, word: str) -> bool:
        return False  # no word is rewritten on its own

    def apply(self, word: str, rng: random.Random) -> str:
        return word

    def learn_set(self, texts) -> None:
        """What the whole set offers this edit (called once, before any edit)."""

    def sites(self, toks: Tokens) -> list[Site]:
        raise NotImplementedError

    def edit(self, toks: Tokens, site: Site, rng: random.Random, own: frozenset[str],
             avoid: frozenset[str] = frozenset()) -> str | None:
        """The text rewritten at `site` (draws from rng; never brings in one of the record's `own`
        casefolded words where it draws from the set, nor content whose key is in `avoid` — what
        the pair already holds), or None."""
        raise NotImplementedError

    def site_keys(self, toks: Tokens, site: Site) -> frozenset[str]:
        """What a site holds, as keys comparable across the two sides (pair-aware edits)."""
        return frozenset()

    def text_keys(self, toks: Tokens, skip: Site | None = None) -> frozenset[str]:
        """The keys a text holds anywhere (outside `skip`), to compare a site against (pair-aware edits)."""
        return frozenset()

    def shared_sites(self, toks: Tokens, other: Tokens) -> list[Site]:
        """The sites of a text paired with `other`: for a pair-aware edit, those whose content the
        other side also holds and this side holds only there (the module's rule); else every site."""
        sites = self.sites(toks)
        if not self.pair_aware:
            return sites
        theirs = self.text_keys(other)
        return [s for s in sites if (keys := self.site_keys(toks, s)) & theirs and not keys & self.text_keys(toks, s)]
