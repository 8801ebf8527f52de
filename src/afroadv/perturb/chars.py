"""Script-aware character noise on grapheme clusters: insert, delete, swap, substitute.

Letters introduced come from the word's own script (scripts.py); a Ge'ez substitution stays in
the consonant's vowel-order row, the way Amharic typists slip. What each word offers (clusters,
sites, letters) is computed once per word and reused: words repeat, and this runs in tight loops.
"""

from __future__ import annotations

import random
import unicodedata

from afroadv.perturb.base import Transformation, register
from afroadv.perturb.scripts import ethiopic_row, letters_for
from afroadv.text import ETHIOPIC, graphemes, word_script


def pick(seq, rng: random.Random):
    """rng.choice without its rejection loop: one random() call (uniform to 2**-53)."""
    return seq[int(rng.random() * len(seq))]


def _with_case(letter: str, like: str) -> str:
    return letter.upper() if like.isupper() else letter


class _CharOp(Transformation):
    """Shares a per-word cache of (clusters, letters, sites) among the four operations."""

    def __init__(self, lang, **params):
        super().__init__(lang, **params)
        self._cache: dict[str, tuple] = {}

    def _letters(self, word: str) -> str:
        return letters_for(word_script(word), self.lang.alphabet, word)

    def _sites(self, g: tuple[str, ...], word: str) -> tuple:
        raise NotImplementedError

    def _word(self, word: str) -> tuple[tuple[str, ...], str, tuple]:
        found = self._cache.get(word)
        if found is None:
            g = tuple(graphemes(word))
            found = (g, self._letters(word), self._sites(g, word))
            if len(self._cache) < 200_000:
                self._cache[word] = found
        return found

    def applies(self, word: str) -> bool:
        return bool(self._word(word)[2])


@register
class CharInsert(_CharOp):
    kind = "char_insert"

    def _sites(self, g, word):
        if not any(c.isalpha() for c in word) or not self._letters(word):
            return ()
        # never insert before a cluster that starts with a combining mark (it would re-attach the mark)
        return tuple(i for i in range(len(g) + 1) if i == len(g) or not unicodedata.combining(g[i][0]))

    def applies(self, word: str) -> bool:
        return any(c.isalpha() for c in word) and bool(self._letters(word))  # cheap: no clusters needed

    def apply(self, word: str, rng: random.Random) -> str:
        g, letters, sites = self._word(word)
        i = pick(sites, rng)
        letter = pick(letters, rng)
        return "".join(g[:i]) + (letter.upper() if word.isupper() else letter) + "".join(g[i:])


@register
class CharDelete(_CharOp):
    kind = "char_delete"

    def _sites(self, g, word):
        return tuple(range(len(g))) if len(g) >= 2 else ()

    def apply(self, word: str, rng: random.Random) -> str:
        g, _, sites = self._word(word)
        i = pick(sites, rng)
        return "".join(g[:i]) + "".join(g[i + 1 :])


@register
class CharSwap(_CharOp):
    kind = "char_swap"

    def _sites(self, g, word):
        start = 1 if g and g[0][:1].isupper() else 0  # keep a capital initial in place
        return tuple(i for i in range(start, len(g) - 1) if g[i] != g[i + 1])

    def apply(self, word: str, rng: random.Random) -> str:
        g, _, sites = self._word(word)
        i = pick(sites, rng)
        return "".join(g[:i]) + g[i + 1] + g[i] + "".join(g[i + 2 :])


@register
class CharSubstitute(_CharOp):
    kind = "char_substitute"

    def _sites(self, g, word):
        """Clusters that have another letter to become."""
        if word_script(word) == ETHIOPIC:
            return tuple(i for i, c in enumerate(g) if len(ethiopic_row(c[0])) > 1)
        letters = self._letters(word)
        return tuple(i for i, c in enumerate(g) if c[0].isalpha() and (len(letters) > 1 or letters != c[0].lower()))

    def apply(self, word: str, rng: random.Random) -> str:
        g, letters, sites = self._word(word)
        i = pick(sites, rng)
        base = g[i][0]
        if word_script(word) == ETHIOPIC:
            options = [c for c in ethiopic_row(base) if c != base]
        else:
            low = base.lower()
            options = letters.replace(low, "") if low in letters else letters
        new = _with_case(pick(options, rng), base) + g[i][1:]  # keep the cluster's own marks
        return unicodedata.normalize("NFC", "".join(g[:i]) + new + "".join(g[i + 1 :]))
