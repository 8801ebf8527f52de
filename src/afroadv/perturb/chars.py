"""Script-aware character noise on grapheme clusters: insert, delete, swap, substitute.

Letters introduced come from the word's own script (scripts.py); a Ge'ez substitution stays in
the consonant's vowel-order row, the way Amharic typists slip.

Speed: what a word offers all four operations (its clusters, letters and the sites of each
operation) is one `Shape`, computed once per word and shared by the operations of a language.
Most words are "simple" — every character is its own grapheme cluster — and then the shape is
the word itself and `range` objects: nothing is materialised until a site is drawn.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import NamedTuple, Sequence

from afroadv.perturb.base import Transformation, register
from afroadv.perturb.scripts import ethiopic_row, letters_for
from afroadv.text import ETHIOPIC, graphemes, word_script

# Letters of these blocks never join a neighbour in an extended grapheme cluster: Latin (incl.
# IPA, Extended Additional, C, D), Greek, Cyrillic, Hebrew, Arabic, Syriac, Thaana, NKo,
# Samaritan, Ethiopic. Marks are not letters, so an `isalpha()` word of these blocks is simple.
_SIMPLE = re.compile("[\u0041-\u08ff\u1200-\u139f\u1e00-\u1fff\u2c60-\u2c7f\u2d80-\u2ddf\ua720-\ua7ff\uab00-\uab2f]+")
_DOUBLED = re.compile(r"(.)\1")
_MAX_SHAPES = 200_000


def pick(seq, rng: random.Random):
    """rng.choice without its rejection loop: one random() call (uniform to 2**-53)."""
    return seq[int(rng.random() * len(seq))]


def _with_case(letter: str, like: str) -> str:
    return letter.upper() if like.isupper() else letter


def _text(clusters: str | tuple[str, ...]) -> str:
    return clusters if clusters.__class__ is str else "".join(clusters)


def is_simple(word: str) -> bool:
    """Every character of `word` is its own grapheme cluster (checked against \\X in the tests)."""
    return word.isalpha() and _SIMPLE.fullmatch(word) is not None


class Shape(NamedTuple):
    clusters: str | tuple[str, ...]  # the word itself when simple
    letters: str  # what a typo may introduce
    insert: Sequence[int]  # sites of each operation (ranges when nothing is excluded)
    delete: Sequence[int]
    swap: Sequence[int]
    substitute: Sequence[int]


def shape(word: str, alphabet: str) -> Shape:
    script = word_script(word)
    letters = letters_for(script, alphabet, word)
    simple = is_simple(word)
    g: str | tuple[str, ...] = word if simple else tuple(graphemes(word))
    n = len(g)
    # insert: never before a cluster that starts with a combining mark (it would re-attach the mark)
    if not letters or not any(c.isalpha() for c in word):
        insert: Sequence[int] = ()
    elif simple:
        insert = range(n + 1)
    else:
        insert = tuple(i for i in range(n + 1) if i == n or not unicodedata.combining(g[i][0]))
    delete = range(n) if n >= 2 else ()
    start = 1 if g and g[0][:1].isupper() else 0  # swap keeps a capital initial in place
    if simple and _DOUBLED.search(word) is None:
        swap: Sequence[int] = range(start, n - 1) if n - 1 > start else ()
    else:
        swap = tuple(i for i in range(start, n - 1) if g[i] != g[i + 1])
    if script == ETHIOPIC:
        substitute: Sequence[int] = tuple(i for i, c in enumerate(g) if len(ethiopic_row(c[0])) > 1)
    elif simple and len(letters) > 1:
        substitute = range(n)
    else:
        substitute = tuple(
            i for i, c in enumerate(g) if c[0].isalpha() and (len(letters) > 1 or letters != c[0].lower())
        )
    return Shape(g, letters, insert, delete, swap, substitute)


_SHAPES: dict[str, dict[str, Shape]] = {}  # alphabet -> word -> shape, shared by the four operations


class _CharOp(Transformation):
    site: str  # which Shape field holds this operation's sites

    def __init__(self, lang, **params):
        super().__init__(lang, **params)
        self._alphabet = lang.alphabet
        self._shapes = _SHAPES.setdefault(lang.alphabet, {})

    def _shape(self, word: str) -> Shape:
        found = self._shapes.get(word)
        if found is None:
            found = shape(word, self._alphabet)
            if len(self._shapes) < _MAX_SHAPES:
                self._shapes[word] = found
        return found

    def applies(self, word: str) -> bool:
        return bool(getattr(self._shape(word), self.site))


@register
class CharInsert(_CharOp):
    kind = "char_insert"
    site = "insert"
    applies_to_letters = True

    def applies(self, word: str) -> bool:
        # cheap, no shape needed: every script's letter inventory is non-empty once the word has a letter
        return word.isalpha() or any(c.isalpha() for c in word)

    def apply(self, word: str, rng: random.Random) -> str:
        g, letters, sites = self._shape(word)[:3]
        i = pick(sites, rng)
        letter = pick(letters, rng)
        return _text(g[:i]) + (letter.upper() if word.isupper() else letter) + _text(g[i:])


@register
class CharDelete(_CharOp):
    kind = "char_delete"
    site = "delete"

    def apply(self, word: str, rng: random.Random) -> str:
        s = self._shape(word)
        i = pick(s.delete, rng)
        return _text(s.clusters[:i]) + _text(s.clusters[i + 1 :])


@register
class CharSwap(_CharOp):
    kind = "char_swap"
    site = "swap"

    def apply(self, word: str, rng: random.Random) -> str:
        s = self._shape(word)
        g = s.clusters
        i = pick(s.swap, rng)
        return _text(g[:i]) + g[i + 1] + g[i] + _text(g[i + 2 :])


@register
class CharSubstitute(_CharOp):
    kind = "char_substitute"
    site = "substitute"

    def apply(self, word: str, rng: random.Random) -> str:
        s = self._shape(word)
        g, letters = s.clusters, s.letters
        i = pick(s.substitute, rng)
        base = g[i][0]
        if word_script(word) == ETHIOPIC:
            options = [c for c in ethiopic_row(base) if c != base]
        else:
            low = base.lower()
            options = letters.replace(low, "") if low in letters else letters
        new = _with_case(pick(options, rng), base) + g[i][1:]  # keep the cluster's own marks
        return unicodedata.normalize("NFC", _text(g[:i]) + new + _text(g[i + 1 :]))


_OPS = {CharInsert: 0, CharDelete: 1, CharSwap: 2, CharSubstitute: 3}


class CharKernel:
    """The four operations fused for simple words: one call per edited word instead of a dozen.

    It draws exactly what Perturber._pick + the operation's `apply` draw, in the same order, so
    it gives the same words (tests compare the two). Words that are not simple return None and
    take the general path."""

    def __init__(self, weighted: list[tuple[Transformation, float]]):
        self.ops = [(_OPS[type(t)], t, w) for t, w in weighted]
        self._shape = weighted[0][0]._shape
        self._plans: dict[str, tuple | None] = {}
        self._subs: dict[tuple[str, str], str] = {}

    @classmethod
    def build(cls, weighted: list[tuple[Transformation, float]]) -> CharKernel | None:
        if weighted and all(type(t) in _OPS for t, _ in weighted):
            return cls(weighted)
        return None

    def _plan(self, word: str) -> tuple | None:
        """(op codes, weights, total weight, shape) of a simple word, or None."""
        plan = None
        if is_simple(word):
            s = self._shape(word)
            ops = [(code, w) for code, t, w in self.ops if getattr(s, t.site)]
            if ops:
                plan = (tuple(c for c, _ in ops), tuple(w for _, w in ops), sum(w for _, w in ops), s)
        if len(self._plans) < _MAX_SHAPES:
            self._plans[word] = plan
        return plan

    def edit(self, word: str, rng) -> str | None:
        try:
            plan = self._plans[word]
        except KeyError:
            plan = self._plan(word)
        if plan is None:
            return None
        codes, weights, total, s = plan
        rnd = rng.random
        if len(codes) == 1:
            op = codes[0]
        else:
            x = rnd() * total
            op = codes[-1]
            for c, w in zip(codes, weights):
                x -= w
                if x < 0:
                    op = c
                    break
        if op == 0:
            sites, letters = s.insert, s.letters
            i = sites[int(rnd() * len(sites))]
            letter = letters[int(rnd() * len(letters))]
            return word[:i] + (letter.upper() if word.isupper() else letter) + word[i:]
        if op == 1:
            i = s.delete[int(rnd() * len(s.delete))]
            return word[:i] + word[i + 1 :]
        if op == 2:
            i = s.swap[int(rnd() * len(s.swap))]
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        i = s.substitute[int(rnd() * len(s.substitute))]
        base = word[i]
        options = self._subs.get((s.letters, base))
        if options is None:
            if word_script(word) == ETHIOPIC:
                options = "".join(c for c in ethiopic_row(base) if c != base)
            else:
                low = base.lower()
                options = s.letters.replace(low, "") if low in s.letters else s.letters
            self._subs[(s.letters, base)] = options
        return unicodedata.normalize("NFC", word[:i] + _with_case(options[int(rnd() * len(options))], base) + word[i + 1 :])
