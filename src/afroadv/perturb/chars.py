"""Script-aware character noise on grapheme clusters: insert, delete, swap, substitute.

This is the plain statement of charnoise's rules; vector.py states the same rules in numpy for
whole batches and tests hold the two equal. Letters a typo introduces come from the language's own
letter distribution or, with probability `keyboard_share`, from the keys next to the neighbouring
(insert) or replaced (substitute) letter (letters.py); a Ge'ez substitution stays in the
consonant's vowel-order row, among syllables the language writes — the way Amharic typists slip.

Draws per edited word, in order: the operation (recipe.Perturber), the site, then for insert and
substitute the component (keyboard or distribution) and the letter.

What a word offers the four operations (its clusters and the sites of each) is one `Shape`,
computed once per word. Most words are "simple" — every character is its own grapheme cluster —
and then the shape is the word itself and `range` objects.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import NamedTuple, Sequence

from afroadv.perturb.base import Transformation, register
from afroadv.perturb.letters import LetterModel, letter_model
from afroadv.text import ETHIOPIC, char_script, graphemes, word_script

# Letters of these blocks never join a neighbour in an extended grapheme cluster: Latin (incl.
# IPA, Extended Additional, C, D), Greek, Cyrillic, Hebrew, Arabic, Syriac, Thaana, NKo,
# Samaritan, Ethiopic. Marks are not letters, so an `isalpha()` word of these blocks is simple.
_SIMPLE = re.compile("[\u0041-\u08ff\u1200-\u139f\u1e00-\u1fff\u2c60-\u2c7f\u2d80-\u2ddf\ua720-\ua7ff\uab00-\uab2f]+")
_DOUBLED = re.compile(r"(.)\1")
_MAX_SHAPES = 200_000
KEYBOARD_SHARE = 0.5


def pick(seq, rng: random.Random):
    """rng.choice without its rejection loop: one random() call (uniform to 2**-53)."""
    return seq[int(rng.random() * len(seq))]


def _with_case(letter: str, like: str) -> str:
    return letter.upper() if like.isupper() else letter


def _text(clusters: str | tuple[str, ...]) -> str:
    return clusters if clusters.__class__ is str else "".join(clusters)


_VOWELS = frozenset("aeiouyɛɔəɪʊ")


def _is_vowel(c: str) -> bool:
    return unicodedata.normalize("NFD", c)[:1].lower() in _VOWELS


def is_simple(word: str) -> bool:
    """Every character of `word` is its own grapheme cluster (checked against \\X in the tests)."""
    return word.isalpha() and _SIMPLE.fullmatch(word) is not None


class Shape(NamedTuple):
    clusters: str | tuple[str, ...]  # the word itself when simple
    insert: Sequence[int]  # sites of each operation (ranges when nothing is excluded)
    delete: Sequence[int]
    swap: Sequence[int]
    substitute: Sequence[int]


def shape(word: str, model: LetterModel) -> Shape:
    script = word_script(word)
    simple = is_simple(word)
    g: str | tuple[str, ...] = word if simple else tuple(graphemes(word))
    n = len(g)
    # insert: never before a cluster that starts with a combining mark (it would re-attach the mark)
    if not any(c.isalpha() for c in word):
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
        substitute: Sequence[int] = tuple(i for i, c in enumerate(g) if model.row(c[0]) is not None)
    else:
        # only letters of the word's own script: its table's letters would be foreign to the others (wሰላም ↛ wmላም)
        table = model.table(script, word)
        if simple and len(set(table.letters)) > 1 and all(char_script(c) == script for c in word):
            substitute = range(n)
        else:
            substitute = tuple(i for i, c in enumerate(g) if c[0].isalpha() and char_script(c[0]) == script
                               and table.offers_other_than(c[0].lower()))
    return Shape(g, insert, delete, swap, substitute)


class _CharOp(Transformation):
    site: str  # which Shape field holds this operation's sites
    learnable = True  # letters come from counts, learned from the dataset for a language outside the registry

    def __init__(self, lang, keyboard_share: float = KEYBOARD_SHARE):
        super().__init__(lang)
        self.keyboard_share = float(keyboard_share)
        self.model = letter_model(lang, self.keyboard_share)
        self._shapes: dict[str, Shape] = {}

    def shape(self, word: str) -> Shape:
        found = self._shapes.get(word)
        if found is None:
            found = shape(word, self.model)
            if len(self._shapes) < _MAX_SHAPES:
                self._shapes[word] = found
        return found

    def applies(self, word: str) -> bool:
        return bool(getattr(self.shape(word), self.site))

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"letters": f"{self.lang.code}@{self.model.version}"} if self.model.version else {}


@register
class CharInsert(_CharOp):
    """An extra letter: a key next to the one before it, or a letter of the language."""

    kind = "char_insert"
    site = "insert"
    applies_to_letters = True

    def applies(self, word: str) -> bool:
        return word.isalpha() or any(c.isalpha() for c in word)  # every script offers a letter

    def apply(self, word: str, rng: random.Random) -> str:
        s = self.shape(word)
        g = s.clusters
        i = pick(s.insert, rng)
        u_which, u_letter = rng.random(), rng.random()
        near = g[i - 1][0] if i else g[0][0]  # the key typed just before
        letter = self.model.slip(near, u_which, u_letter)
        if letter is None:  # a letter of the script typed just there (a mixed-script word has two)
            letter = self.model.table(char_script(near) if near.isalpha() else word_script(word), word).pick(u_letter)
        return _text(g[:i]) + (letter.upper() if word.isupper() else letter) + _text(g[i:])


@register
class CharDelete(_CharOp):
    kind = "char_delete"
    site = "delete"

    def apply(self, word: str, rng: random.Random) -> str:
        s = self.shape(word)
        i = pick(s.delete, rng)
        return _text(s.clusters[:i]) + _text(s.clusters[i + 1 :])


@register
class CharSwap(_CharOp):
    kind = "char_swap"
    site = "swap"

    def apply(self, word: str, rng: random.Random) -> str:
        s = self.shape(word)
        g = s.clusters
        i = pick(s.swap, rng)
        return _text(g[:i]) + g[i + 1] + g[i] + _text(g[i + 2 :])


@register
class CharSubstitute(_CharOp):
    """A letter replaced: by a neighbouring key, a letter of the language, or (Ge'ez) another
    vowel order of the same consonant."""

    kind = "char_substitute"
    site = "substitute"

    def apply(self, word: str, rng: random.Random) -> str:
        s = self.shape(word)
        g = s.clusters
        i = pick(s.substitute, rng)
        base = g[i][0]
        u_which, u_letter = rng.random(), rng.random()
        script = word_script(word)
        if script == ETHIOPIC:
            new = self.model.row(base).pick(u_letter)
        else:
            new = self.model.slip(base, u_which, u_letter) or self.model.table(script, word).pick_except(u_letter, base.lower())
        # a vowel keeps the cluster's tone marks (ọ́ → ẹ́); a consonant takes none (no keyboard types t́)
        marks = g[i][1:] if _is_vowel(new) and _is_vowel(base) else ""
        new = _with_case(new, base) + marks
        return unicodedata.normalize("NFC", _text(g[:i]) + new + _text(g[i + 1 :]))


CHAR_OPS = {CharInsert: 0, CharDelete: 1, CharSwap: 2, CharSubstitute: 3}
