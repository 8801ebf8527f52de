"""Which words of a text a recipe may rewrite, found at the speed of C-level list operations.

A text is split on spaces into chunks (exact: no token contains a space). Chunks repeat across a
corpus far more than texts do, so each distinct chunk is tokenised and judged once and packed
into one integer:

    code = context << 72 | eligible << 48 | words << 24 | special

`eligible` counts the chunk's words that are always rewritable, `words` its words (protected
tokens such as URLs are not words), and `special` marks chunks whose eligibility depends on where
they stand: those with a capitalised word (rewritable only sentence-initially). A text is then
`map` + `accumulate` over its chunks; only its capitalised words are looked at in Python, each
with a glance at the chunk before it (does a sentence end there?). The prefix sums locate the r-th
eligible word by bisection, so a perturbation touches nothing but the words it draws.

`context` marks chunks with a token whose fate depends on the words around it (the first word of
a multi-word name such as አዲስ አበባ, or a recipe that always reads words in context): a text with
one is walked token by token and handed to the recipe's `in_context` rule, the slow path.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate, compress
from typing import Callable, NamedTuple

from afroadv.errors import AfroadvError
from afroadv.text import APOSTROPHES, ends_sentence, nfc, split_tokens

# what one token is, as judged by a recipe
PROTECTED, FIXED, ALWAYS, INITIAL, CONTEXT = range(5)
# FIXED: a word never rewritten; INITIAL: only sentence-initially; CONTEXT: decided by in_context

_CONTEXT = 1 << 72
_ELIGIBLE = 1 << 48
_WORD = 1 << 24
_FIELD = (1 << 24) - 1  # a text of fewer characters cannot overflow a field
_MAX_CHUNKS = 1_000_000


class Token(NamedTuple):
    start: int  # offsets within the chunk
    end: int
    lead_ends: bool  # the gap before it ends a sentence
    kind: int
    word: int  # its index among the chunk's words (-1 if protected)


class Analysis(NamedTuple):
    """A text as chunks, prefix sums of their codes, and the targets of its special chunks."""

    text: str  # NFC
    chunks: tuple[str, ...]
    cum: list[int]  # accumulate(codes)
    resolved: dict[int, tuple[Token, ...]]  # chunk index -> its eligible tokens, where not all-or-static
    n_eligible: int
    n_words: int

    def words_before(self, ci: int) -> int:
        return (self.cum[ci - 1] >> 24) & _FIELD if ci else 0

    def target(self, rank: int, statics: dict[str, tuple[Token, ...]]) -> tuple[int, int, int, int]:
        """(chunk index, start, end, n-th word of the text) of the rank-th eligible word."""
        ci = bisect_left(self.cum, (rank + 1) << 48)
        j = rank - (self.cum[ci - 1] >> 48 if ci else 0)
        chunk = self.chunks[ci]
        tokens = self.resolved.get(ci) or statics.get(chunk)
        if tokens is None:
            return ci, 0, len(chunk), self.words_before(ci)
        t = tokens[j]
        return ci, t.start, t.end, self.words_before(ci) + t.word

    def targets(self, statics: dict[str, tuple[Token, ...]]) -> list[tuple[int, int, int, int]]:
        return [self.target(r, statics) for r in range(self.n_eligible)]


def _code(kind: int) -> int:
    """The code of a chunk that is one token of this kind."""
    return (kind == ALWAYS) * _ELIGIBLE + (kind != PROTECTED) * _WORD + (kind == INITIAL) + (kind == CONTEXT) * _CONTEXT


def bound(gap_before: str, gap_after: str, token: str) -> bool:
    """Part of a hyphenated compound or joined by an apostrophe ('yan, orílẹ̀-èdè, n'umurimo)."""
    return (
        gap_before[-1:] in _JOINERS or gap_after[:1] in _JOINERS or any(c in APOSTROPHES for c in token)
    )


_JOINERS = frozenset("-‐‑" + APOSTROPHES + "‘`´")


# The rule for a text whose tokens need context: (tokens, the gaps around them, their kinds) → kinds
InContext = Callable[[list[str], list[str], list[int]], list[int]]


class TextAnalyser:
    """Chunk codes for one recipe × language; `judge(token, bound)` says what a token is."""

    def __init__(self, judge: Callable[[str, bool], int], plain_word: int | None = None,
                 in_context: InContext | None = None):
        self.judge = judge
        self.in_context = in_context
        # what judge says of every alphabetic word that does not start with a capital, when that
        # is the same for all of them (a recipe without stop words that applies to any letters)
        self._plain = None if plain_word is None else _code(plain_word)
        self._codes: dict[str, int] = {}
        self._initials: dict[str, tuple[Token, ...] | None] = {}  # chunks with an INITIAL token (None: the whole chunk)
        self._opens: set[str] = set()  # chunks after which a sentence starts
        self._transparent: set[str] = set()  # chunks without a token that do not end a sentence ("", "—")
        self.statics: dict[str, tuple[Token, ...]] = {}  # other chunks of several tokens: their eligible ones
        self._texts: dict[str, Analysis] = {}

    def _learn(self, chunk: str) -> int:
        alpha = chunk.isalpha()
        if alpha and self._plain is not None and not chunk[0].isupper():
            code = self._plain
            if len(self._codes) < _MAX_CHUNKS:
                self._codes[chunk] = code
            return code
        parts = None if alpha else split_tokens(chunk)
        if parts is None or (len(parts) == 3 and not parts[0] and not parts[2]):  # one whole-chunk token
            kind = self.judge(chunk, not alpha and bound("", "", chunk))
            code = _code(kind)
            if kind == INITIAL:
                self._initials[chunk] = None
        else:
            tokens, at, n = [], len(parts[0]), 0
            context = 0
            for i in range(1, len(parts), 2):
                end = at + len(parts[i])
                kind = self.judge(parts[i], bound(parts[i - 1], parts[i + 1], parts[i]))
                context |= kind == CONTEXT
                tokens.append(Token(at, end, ends_sentence(parts[i - 1]), kind, n if kind != PROTECTED else -1))
                n += kind != PROTECTED
                at = end + len(parts[i + 1])
            if ends_sentence(parts[-1]) or (not tokens and ends_sentence(chunk)):
                self._opens.add(chunk)
            elif not tokens:
                self._transparent.add(chunk)
            always = tuple(t for t in tokens if t.kind == ALWAYS)
            special = any(t.kind == INITIAL for t in tokens)
            code = len(always) * _ELIGIBLE + n * _WORD + special + context * _CONTEXT
            if special:
                self._initials[chunk] = tuple(tokens)
            elif len(tokens) > 1 or (tokens and (tokens[0].start or tokens[0].end != len(chunk))):
                self.statics[chunk] = always
        if len(self._codes) < _MAX_CHUNKS:
            self._codes[chunk] = code
        return code

    def analyse(self, raw: str) -> Analysis:
        """The analysis of nfc(raw), cached by raw."""
        found = self._texts.get(raw)
        if found is not None:
            return found
        text = nfc(raw)
        if len(text) > _FIELD:
            raise AfroadvError(f"a text of {len(text):,} characters is longer than afroadv perturbs ({_FIELD:,})")
        chunks = text.split(" ")
        codes = list(map(self._codes.get, chunks))
        if None in codes:
            codes = [self._learn(c) if code is None else code for c, code in zip(chunks, codes)]
        resolved: dict[int, tuple[Token, ...]] = {}
        cum = list(accumulate(codes))
        if cum[-1] >= _CONTEXT:
            found = self._in_context(raw, text, chunks)
        elif cum[-1] & _FIELD:  # capitalised words: rewritable only where a sentence starts
            initials, opens, transparent = self._initials, self._opens, self._transparent
            for ci in compress(range(len(chunks)), map(initials.__contains__, chunks)):
                j = ci - 1
                while j >= 0 and chunks[j] in transparent:
                    j -= 1
                initial = j < 0 or chunks[j] in opens
                tokens = initials[chunks[ci]]
                if tokens is None:  # the chunk is one capitalised word
                    if initial:
                        codes[ci] += _ELIGIBLE
                    continue
                eligible = []
                for t in tokens:
                    if t.kind == ALWAYS or (t.kind == INITIAL and (initial or t.lead_ends)):
                        eligible.append(t)
                    initial = False
                codes[ci] += (len(eligible) - (codes[ci] >> 48)) * _ELIGIBLE
                resolved[ci] = tuple(eligible)
            cum = list(accumulate(codes))
        if cum[-1] < _CONTEXT:
            found = Analysis(text, tuple(chunks), cum, resolved, (cum[-1] >> 48) & _FIELD, (cum[-1] >> 24) & _FIELD)
        if len(self._texts) >= 200_000:
            self._texts.clear()
        self._texts[raw] = found
        return found

    def _in_context(self, raw: str, text: str, chunks: list[str]) -> Analysis:
        """The slow path: every token judged in order, the recipe's `in_context` rule applied to the
        whole text (names spanning chunks, neighbours), and every chunk's eligible tokens listed."""
        parts = split_tokens(text)
        tokens, gaps = parts[1::2], parts[0::2]
        kinds = [self.judge(t, bound(gaps[j], gaps[j + 1], t)) for j, t in enumerate(tokens)]
        if self.in_context is not None:
            kinds = self.in_context(tokens, gaps, kinds)
        chunk_starts = list(accumulate(len(c) + 1 for c in chunks))  # where each next chunk starts
        eligible: dict[int, list[Token]] = {}
        n_eligible = [0] * len(chunks)
        n_words = [0] * len(chunks)
        at, initial = 0, True
        for j, (tok, kind) in enumerate(zip(tokens, kinds)):
            at += len(gaps[j])
            initial = initial or ends_sentence(gaps[j])
            ci = bisect_right(chunk_starts, at)
            start = at - (chunk_starts[ci - 1] if ci else 0)
            if kind != PROTECTED:
                if kind == ALWAYS or (kind == INITIAL and initial):
                    eligible.setdefault(ci, []).append(Token(start, start + len(tok), False, ALWAYS, n_words[ci]))
                    n_eligible[ci] += 1
                n_words[ci] += 1
            at += len(tok)
            initial = False
        cum = list(accumulate(e * _ELIGIBLE + w * _WORD for e, w in zip(n_eligible, n_words)))
        resolved = {ci: tuple(ts) for ci, ts in eligible.items()}
        return Analysis(text, tuple(chunks), cum, resolved, cum[-1] >> 48, (cum[-1] >> 24) & _FIELD)
