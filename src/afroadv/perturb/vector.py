"""Character noise for a whole batch of texts at once, in numpy: the generation kernel of recipes
made only of the four character operations (charnoise).

Word by word, CPython spends microseconds per word on bookkeeping; a batch of texts as one array
of code points costs nanoseconds per character. The kernel tokenises, judges, draws and edits
every text of a batch with array operations and touches Python once per text (to slice out the
result). It implements the recipe exactly as the per-word path does — the same tokens, the same
eligibility (numbers and likely names protected, capitals only sentence-initially), the same
operations with the same sites, letters and weights — but draws are *addressed* rather than
sequential, so they can be made in bulk:

    text draws come from the pair's stream key K at slots side_base(side) + s (recipe.py), where
      s = 0                  decides k (recipe.n_to_change)
      s = 1 + i              gives eligible word i's sort key, the draw's top 40 bits: the words with
                             the k smallest keys are rewritten (equal keys: the earlier word first)
      s = EDIT_SLOT + 8i + j (j = 0 … 3) choose word i's operation, site, letter source
                             (keyboard or distribution) and letter; j = 4 … 7 the same again
                             when the first edit spells a known word (`avoid_real_words`)

The plain statement of these rules is Perturber.perturb_text with the operations of chars.py;
`tests/test_vector.py` checks the kernel against it, draw for draw. Texts the kernel does not take
— a protected token (URL, e-mail, @user, #hashtag), a combining mark, a letter outside Latin,
Ge'ez and Arabic, or characters unknown to this Python's Unicode tables — go through
perturb_text itself; which path a text takes depends on the text alone.
"""

from __future__ import annotations

import codecs
import unicodedata
from itertools import repeat
from typing import NamedTuple

import numpy as np

from afroadv.perturb.chars import _SIMPLE, CHAR_OPS
from afroadv.perturb.letters import LetterTable
from afroadv.perturb.recipe import ATTEMPT, EDIT_SLOT, STRIDE, side_base
from afroadv.perturb.rng import draw_bits, draw_bits_array, draws_array
from afroadv.words import bare
from afroadv.text import _SENTENCE_END, APOSTROPHES, ARABIC, ETHIOPIC, LATIN, char_script, has_digit, is_word_char

WORD, ALPHA, DIGIT, UPPER, LOWERISH, APOS, SENT, OUT, LOWER = (1 << i for i in range(9))
KNOWN = 1 << 15  # set for every learned code point: an unlearned one reads 0
_SCRIPT_SHIFT = 10  # two bits: 0 Latin, 1 Ge'ez, 2 Arabic
SCRIPTS = (LATIN, ETHIOPIC, ARABIC)
_U64 = np.uint64


def char_flags(c: str) -> int:
    """What the kernel needs to know about one character (OUT: a text containing it goes the slow way)."""
    f = 0
    if is_word_char(c):
        f |= WORD
    alpha = c.isalpha()
    if alpha:
        f |= ALPHA
    if has_digit(c):
        f |= DIGIT
    if c.isupper():
        f |= UPPER
    if c.islower() or unicodedata.category(c) == "Lt":
        f |= LOWERISH
    if c.islower():
        f |= LOWER
    if c in APOSTROPHES:
        f |= APOS
    if c in _SENTENCE_END:
        f |= SENT
    script = char_script(c) if alpha else None
    if (
        c in "@#"
        or unicodedata.category(c) in ("Cn", "Cs")
        or ((f & WORD) and not (alpha or f & DIGIT))  # a mark (or a letter \p{L} and isalpha disagree on)
        or (alpha and (script not in SCRIPTS or not _SIMPLE.fullmatch(c) or len(c.upper()) != 1))
        or ((f & WORD) and (len(c.lower()) != 1 or c.casefold() != c.lower()))  # word lists match by casefold
    ):
        f |= OUT
    if script in SCRIPTS:
        f |= SCRIPTS.index(script) << _SCRIPT_SHIFT
    return f


_ETH_START, _ETH_END = 0x1200, 0x13A0


class _Table:
    """A LetterTable as arrays: code points, their upper case, and cumulative weights (exact floats)."""

    def __init__(self, table: LetterTable):
        self.cps = np.array([ord(c) for c in table.letters], dtype=np.uint32)
        self.upper = np.array([ord(c.upper()) for c in table.letters], dtype=np.uint32)
        self.cum = np.array(table.cum, dtype=np.float64)
        self.total = float(table.total)
        self._sorted = np.argsort(self.cps, kind="stable")

    def find(self, cps: np.ndarray) -> np.ndarray:
        """Index of each code point among the letters, or -1."""
        pos = np.searchsorted(self.cps[self._sorted], cps)
        pos = np.minimum(pos, len(self.cps) - 1)
        hit = self.cps[self._sorted][pos] == cps
        return np.where(hit, self._sorted[pos], -1)

    def pick(self, u: np.ndarray) -> np.ndarray:
        """LetterTable.pick: the index of the letter drawn by each u."""
        return np.searchsorted(self.cum, u * self.total, side="right")

    def pick_except(self, u: np.ndarray, avoid: np.ndarray) -> np.ndarray:
        """LetterTable.pick_except, with `avoid` the index of the letter to skip (-1: none)."""
        has = avoid >= 0
        a = np.where(has, avoid, 0)
        w = np.where(has, self.cum[a] - np.where(a > 0, self.cum[a - 1], 0.0), 0.0)
        x = u * (self.total - w)
        x = np.where(has & (x >= self.cum[a] - w), x + w, x)
        return np.searchsorted(self.cum, x, side="right")


class _Model:
    """A LetterModel as arrays: per-script tables, keyboard neighbours and Ge'ez rows by code point."""

    def __init__(self, model):
        self.keyboard_share = model.keyboard_share
        self.tables = [_Table(model.tables[sc]) for sc in SCRIPTS]
        top = max([0x13A0] + [ord(k) + 1 for k in model.neighbours if len(k) == 1])
        width = max([1] + [len(v) for v in model.neighbours.values()])
        self.nb = np.zeros((top, width), dtype=np.uint32)
        self.nb_count = np.zeros(top, dtype=np.int64)
        for k, keys in model.neighbours.items():
            if len(k) == 1:
                self.nb[ord(k), : len(keys)] = [ord(c) for c in keys]
                self.nb_count[ord(k)] = len(keys)
        self._model = model
        self._rows = None

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For every Ge'ez code point, its row's other written syllables: (code points, cumulative
        weights padded with inf, total). Built on first use: most texts have no Ge'ez."""
        if self._rows is None:
            n = _ETH_END - _ETH_START
            cps, cum, total = np.zeros((n, 7), dtype=np.uint32), np.full((n, 7), np.inf), np.zeros(n)
            for i in range(n):
                row = self._model.row(chr(_ETH_START + i))
                if row is not None:
                    cps[i, : len(row.letters)] = [ord(c) for c in row.letters]
                    cum[i, : len(row.cum)] = row.cum
                    total[i] = row.total
            self._rows = (cps, cum, total)
        return self._rows

    def row_ok(self, cps: np.ndarray) -> np.ndarray:
        """Ge'ez syllables with another syllable of their row that the language writes."""
        b = cps.astype(np.int64) - _ETH_START
        inside = (b >= 0) & (b < _ETH_END - _ETH_START)
        if not inside.any():
            return inside
        total = self.rows()[2]
        return inside & (total[np.clip(b, 0, len(total) - 1)] > 0)

    def slip(self, near_lower: np.ndarray, u_which: np.ndarray, u_letter: np.ndarray):
        """LetterModel.slip: (taken, key) — taken where the keyboard component is drawn and `near` has keys."""
        cp = np.where(near_lower < len(self.nb_count), near_lower, 0).astype(np.int64)
        count = self.nb_count[cp]
        taken = (u_which < self.keyboard_share) & (count > 0)
        j = np.floor(u_letter * np.maximum(count, 1)).astype(np.int64)
        return taken, self.nb[cp, np.minimum(j, self.nb.shape[1] - 1)]


class _CharTables:
    """char_flags (| KNOWN) and one-code-point lower case for every code point seen so far, shared
    by all kernels; the arrays grow to the largest code point seen (a few KB for Latin and Ge'ez)."""

    def __init__(self):
        self.flags = np.zeros(0, dtype=np.uint16)
        self.lower = np.zeros(0, dtype=np.uint32)  # c.lower() when one code point, else 0

    def flags_of(self, cps: np.ndarray) -> np.ndarray:
        top = int(cps.max()) + 1 if len(cps) else 0
        if top > len(self.flags):
            grow = max(top, 2 * len(self.flags))
            for name in ("flags", "lower"):
                old = getattr(self, name)
                new = np.zeros(grow, dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, name, new)
        f = self.flags[cps]
        if len(f) and f.min() < KNOWN:
            present = np.zeros(len(self.flags), dtype=bool)
            present[cps[f < KNOWN]] = True  # (a scatter, not a sort: a batch may hold millions of characters)
            for cp in np.flatnonzero(present).tolist():
                c = chr(cp)
                self.flags[cp] = char_flags(c) | KNOWN
                low = c.lower()
                self.lower[cp] = ord(low) if len(low) == 1 else 0
            f = self.flags[cps]
        return f


_TABLES = _CharTables()


# one SplitMix64 number per position: a multiplier linear in the position (G·(2i+1)) made words of
# one length collide by the thousand (Σ cp·(2i+1) repeats), and every collision costs a Python check
_MULT = np.array([draw_bits(0x5EED, i) | 1 for i in range(64)], dtype=np.uint64)
_LEN = np.uint64(0xD6E8FEB86659FD93)


def hash_words(words: list[str]) -> np.ndarray:
    """`_word_hashes` of separate words (the same function, so a set and a text hash alike)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    cps = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
    lens = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    ends = np.cumsum(lens)
    return _word_hashes(cps, ends - lens, ends)


class _WordSet:
    """A set of casefolded words, looked up by hash in numpy and confirmed exactly in Python
    (after `translate`, the table the set's keys were made with: Ge'ez homophones for names)."""

    def __init__(self, words, translate: dict | None = None):
        self.words = frozenset(words)
        self.translate = translate or {}
        self.hashes = np.unique(hash_words(sorted(self.words)))

    def candidates(self, hashes: np.ndarray) -> np.ndarray:
        if not len(self.hashes):
            return np.zeros(len(hashes), dtype=bool)
        pos = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        return self.hashes[pos] == hashes

    def members(self, hashes: np.ndarray, which: np.ndarray, text: str, ws: np.ndarray, we: np.ndarray) -> np.ndarray:
        """Of the words marked in `which`, those whose casefolded text is in the set."""
        out = np.zeros(len(hashes), dtype=bool)
        idx = np.flatnonzero(which)
        if not len(idx) or not len(self.hashes):
            return out
        table = self.translate
        for i in idx[self.candidates(hashes[idx])].tolist():
            out[i] = text[ws[i] : we[i]].casefold().translate(table) in self.words
        return out


def _word_hashes(lower: np.ndarray, ws: np.ndarray, we: np.ndarray) -> np.ndarray:
    """word_hash of every word [ws, we) of the casefolded code points `lower`."""
    if not len(ws):
        return np.zeros(0, dtype=np.uint64)
    length = we - ws
    owner = np.repeat(np.arange(len(ws)), length)
    first = np.cumsum(length) - length
    local = np.arange(len(owner)) - first[owner]
    with np.errstate(over="ignore"):
        contrib = lower[ws[owner] + local].astype(np.uint64) * _MULT[local % 64]
        return np.add.reduceat(contrib, first) + length.astype(np.uint64) * _LEN


class Batch(NamedTuple):
    """Texts as one array of code points, and the words of the texts the kernel takes."""

    joined: str
    cps: np.ndarray
    f: np.ndarray  # flags of every code point
    lens: np.ndarray
    starts: np.ndarray  # where each text starts in `joined`
    accepted: np.ndarray  # per text: taken (no character the kernel leaves to Python)
    ws: np.ndarray  # words of accepted texts: start, end, text index, flags of the gap before, of the word
    we: np.ndarray
    tid: np.ndarray
    gap_before: np.ndarray
    in_word: np.ndarray


def tokenize_batch(texts: list[str]) -> Batch | None:
    """split_tokens' words of many NFC texts at once (None when a text has a lone surrogate)."""
    n = len(texts)
    joined = "\n" + "\n".join(texts) + "\n"  # a sentence break before every text
    try:
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:
        return None
    f = _TABLES.flags_of(cps)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 1
    np.cumsum(lens[:-1] + 1, out=starts[1:])
    starts[1:] += 1
    accepted = (np.bitwise_or.reduceat(f, starts) & OUT) == 0
    if "://" in joined or "www." in joined:
        for i in np.flatnonzero(accepted).tolist():
            if "://" in texts[i] or "www." in texts[i]:
                accepted[i] = False
    # words: maximal runs of word characters, exactly text.split_tokens' words
    word = (f & WORD) != 0
    word[1:-1] |= ((f[1:-1] & APOS) != 0) & word[:-2] & word[2:]  # l'eau, n'abandi: one word
    edges = np.diff(word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    ws = np.flatnonzero(edges == 1)
    we = np.flatnonzero(edges == -1)
    # one pass gives every gap's and every word's flags: segments gap0, word0, gap1, word1, ...
    bounds = np.empty(2 * len(ws) + 1, dtype=np.int64)
    bounds[0], bounds[1::2], bounds[2::2] = 0, ws, we
    ored = np.bitwise_or.reduceat(f, bounds[:-1]) if len(ws) else np.zeros(0, dtype=f.dtype)
    gap_before, in_word = ored[0::2], ored[1::2]
    tid = np.searchsorted(starts, ws, side="right") - 1
    keep = accepted[tid]
    return Batch(joined, cps, f, lens, starts, accepted, ws[keep], we[keep], tid[keep], gap_before[keep], in_word[keep])


def learn_context(texts: list[str]) -> tuple[set[str], set[str], list[int]]:
    """TextContext.learn's rule in numpy: (words written with a capital inside a sentence, words
    written in lower case) as written, and the indices of the texts left to the plain rule."""
    if not texts:
        return set(), set(), []
    b = tokenize_batch(texts)
    if b is None:
        return set(), set(), list(range(len(texts)))
    first = b.f[b.ws]
    lower = (first & LOWER) != 0
    acronym = (b.we - b.ws > 1) & ((b.in_word & UPPER) != 0) & ((b.in_word & LOWERISH) == 0)
    inside = ((first & UPPER) != 0) & ((b.gap_before & SENT) == 0) & ~acronym
    j = b.joined
    lowers = {j[a:e] for a, e in zip(b.ws[lower].tolist(), b.we[lower].tolist())}
    names = {j[a:e] for a, e in zip(b.ws[inside].tolist(), b.we[inside].tolist())}
    return names, lowers, np.flatnonzero(~b.accepted).tolist()


class VectorKernel:
    """charnoise for many texts at once; `run` returns per text (text, words, eligible, changed) or None."""

    def __init__(self, perturber):
        recipe = perturber.recipe
        self.rate = recipe.rate
        self.min_words = recipe.min_words
        self.protect_names = "names" in recipe.protect
        self.order = [CHAR_OPS[type(t)] for t, _ in perturber.transformations]  # op codes in recipe order
        self.weights = np.array([w for _, w in perturber.transformations], dtype=np.float64)
        self.model = _Model(perturber.transformations[0][0].model)
        words = perturber.words
        self.avoid_real_words = recipe.avoid_real_words
        self.known = words.common
        self.known_words = _WordSet(words.common)
        self.numbers = _WordSet(words.number)
        self.number_pattern = words.number_pattern  # made numerals: a text with one is left to perturb_text
        self.names = _WordSet(words.names, words.homophones)
        self.multi = _WordSet(words.multi_names if self.protect_names else (), words.homophones)
        self.homophones = words.homophones
        self.common_not_names = _WordSet(words.common - words.names)

    @classmethod
    def build(cls, perturber) -> VectorKernel | None:
        """Only for recipes the kernel states exactly: character operations sharing one letter model,
        numbers protected, no stop words, and letters that upper-case to one letter each."""
        ts = [t for t, _ in perturber.transformations]
        if (
            not ts
            or not all(type(t) in CHAR_OPS for t in ts)
            or len({id(t.model) for t in ts}) != 1
            or "numbers" not in perturber.recipe.protect
            or perturber.stopwords
            or {"compounds", "number_neighbours", "name_neighbours"} & set(perturber.recipe.protect)
            or any(len(c.upper()) != 1 for sc in SCRIPTS for c in ts[0].model.tables[sc].letters)
        ):
            return None
        return cls(perturber)

    def run(self, texts: list[str], keys: list[int], sides: list[int]):
        """Texts must be NFC. Returns, per text, (new text, n words, n eligible, n changed) or None."""
        n = len(texts)
        if not n:
            return []
        if n >= 1 << 24:
            raise ValueError("at most 2**24 - 1 texts per kernel call (the sort key holds the text index in 24 bits)")
        if self.number_pattern is not None:  # (made numerals are matched per word by perturb_text)
            texts = list(texts)
            flagged = [i for i, t in enumerate(texts) if self.number_pattern.search(bare(t.casefold()))]
        b = tokenize_batch(texts)
        if b is None:  # lone surrogates: leave everything to the per-word path
            return [None] * n
        if self.number_pattern is not None and flagged:
            b.accepted[flagged] = False
        joined, cps, f, lens, starts, accepted = b.joined, b.cps, b.f, b.lens, b.starts, b.accepted
        ws, we, tid, gap_before, in_word = b.ws, b.we, b.tid, b.gap_before, b.in_word

        eligible = (in_word & DIGIT) == 0
        hashes = _word_hashes(_TABLES.lower[cps], ws, we)
        eligible &= ~self.numbers.members(hashes, eligible, joined, ws, we)
        if self.protect_names:
            cased = (in_word & (UPPER | LOWERISH)) != 0
            cap = (f[ws] & UPPER) != 0
            lower_in = (in_word & LOWERISH) != 0
            acronym = cap & (we - ws > 1) & ~lower_in
            after_first = np.zeros(len(ws), dtype=f.dtype)
            longer = we - ws > 1
            if longer.any():
                after_first[longer] = np.bitwise_or.reduceat(f, np.stack((ws + 1, we), axis=1).ravel())[0::2][longer]
            inner = ((after_first & UPPER) != 0) & lower_in
            initial = (gap_before & SENT) != 0
            known = self.common_not_names.members(hashes, eligible & cap & initial & ~acronym & ~inner, joined, ws, we)
            eligible &= ~(cased & (acronym | inner | (cap & ~(initial & known))))
            uncased = ~cased
            name_hashes = hashes
            if self.homophones and uncased.any():  # names are keyed with equal-sounding letters made one
                lower = _TABLES.lower[cps]
                canon = np.arange(max(int(lower.max()) + 1, _ETH_END), dtype=np.uint32)
                for cp, c in self.homophones.items():
                    canon[cp] = ord(c)
                name_hashes = _word_hashes(canon[lower], ws, we)
            eligible &= ~self.names.members(name_hashes, eligible & uncased, joined, ws, we)
            multi = self.multi.members(name_hashes, uncased, joined, ws, we)
            if multi.any():  # the first word of a multi-word name: the text is decided in context
                accepted[np.unique(tid[multi])] = False
                keep = accepted[tid]
                ws, we, tid, gap_before, in_word = ws[keep], we[keep], tid[keep], gap_before[keep], in_word[keep]
                eligible = eligible[keep]
        n_words = np.bincount(tid, minlength=n)
        e_idx = np.flatnonzero(eligible)
        e_tid = tid[e_idx]
        m = np.bincount(e_tid, minlength=n)

        key = np.array(keys, dtype=_U64)
        base = side_base(np.array(sides, dtype=np.int64))
        k = self._n_to_change(m, draws_array(key, base))
        offset = np.concatenate(([0], np.cumsum(m)[:-1]))
        rank = np.arange(len(e_idx)) - offset[e_tid]
        # one integer sort: text in the top 24 bits, the 40-bit key below (n < 2**24 texts per call)
        sort_key = (e_tid.astype(_U64) << _U64(40)) | (draw_bits_array(key[e_tid], base[e_tid] + 1 + rank) >> _U64(24))
        order = np.argsort(sort_key, kind="stable")
        chosen = np.sort(order[(np.arange(len(order)) - offset[e_tid[order]]) < k[e_tid[order]]])
        w_idx, c_tid, c_rank = e_idx[chosen], e_tid[chosen], rank[chosen]
        slot = base[c_tid] + EDIT_SLOT + STRIDE * c_rank
        ckey = key[c_tid]
        u = tuple(draws_array(ckey, slot + j) for j in range(4))
        s_w, e_w = ws[w_idx], we[w_idx]
        out, op, pos, ins = self._edit(cps, f, s_w, e_w, in_word[w_idx], u)
        if self.avoid_real_words and len(w_idx):
            # edit_word's rule: an edit that spells a known word is drawn again from the draws ATTEMPT
            # further on; if that spells one too, the word stays as it was
            h = np.flatnonzero(self._spells_known(out, s_w, e_w, op, pos, ins))
            if len(h):
                u2 = tuple(draws_array(ckey[h], slot[h] + ATTEMPT + j) for j in range(4))
                out2, op[h], pos[h], ins[h] = self._edit(cps, f, s_w[h], e_w[h], in_word[w_idx][h], u2)
                at = _chars_of(s_w[h], e_w[h])
                out[at] = out2[at]
                g = h[self._spells_known(out, s_w[h], e_w[h], op[h], pos[h], ins[h])]
                if len(g):
                    at = _chars_of(s_w[g], e_w[g])
                    out[at] = cps[at]
                    keep = np.ones(len(w_idx), dtype=bool)
                    keep[g] = False
                    c_tid, op, pos, ins = c_tid[keep], op[keep], pos[keep], ins[keep]
        ins_pos, ins_cp, deletes = pos[op == 0], ins[op == 0], pos[op == 1]

        keep_mask = np.ones(len(out), dtype=bool)
        keep_mask[deletes] = False
        shift = np.searchsorted(np.sort(deletes), ins_pos, side="left")
        final = np.insert(out[keep_mask], ins_pos - shift, ins_cp)
        ins_t = np.bincount(np.searchsorted(starts, ins_pos, side="right") - 1, minlength=n)
        del_t = np.bincount(np.searchsorted(starts, deletes, side="right") - 1, minlength=n)
        new_lens = lens + ins_t - del_t
        new_starts = np.concatenate(([1], 1 + np.cumsum(new_lens[:-1] + 1))).tolist()
        big = codecs.utf_32_le_decode(final.astype("<u4", copy=False))[0]
        ends = (np.array(new_starts, dtype=np.int64) + new_lens).tolist()
        out_texts = [big[a:b] for a, b in zip(new_starts, ends)]
        # (letters replace letters in texts without marks: NFC holds; checked all the same)
        if not all(map(unicodedata.is_normalized, repeat("NFC"), out_texts)):
            out_texts = [unicodedata.normalize("NFC", t) for t in out_texts]
        changed = np.bincount(c_tid, minlength=n).tolist()
        results: list = list(zip(out_texts, n_words.tolist(), m.tolist(), changed))
        for i in np.flatnonzero(~accepted).tolist():
            results[i] = None
        return results

    def _spells_known(self, out, s, e, op, pos, ins) -> np.ndarray:
        """Per chosen word: does its edit spell a known word of the language? Hashed in numpy; the
        few hash hits (and words whose lower case is not their case fold, ß) are confirmed in Python."""
        cps, ws, we = _edited_cps(out, s, e, op, pos, ins)
        found = np.zeros(len(s), dtype=bool)
        if not len(s) or not len(self.known_words.hashes):
            return found
        _TABLES.flags_of(cps)  # (inserted letters may be new to the tables)
        check = self.known_words.candidates(_word_hashes(_TABLES.lower[cps], ws, we))
        uniq = np.unique(cps).tolist()
        odd = [c for c in uniq if chr(c).lower() != chr(c).casefold() or not _TABLES.lower[c]]
        if odd:
            check |= np.add.reduceat(np.isin(cps, odd).astype(np.int64), ws) > 0
        known = self.known
        for j in np.flatnonzero(check).tolist():
            found[j] = codecs.utf_32_le_decode(cps[ws[j] : we[j]].astype("<u4").tobytes())[0].casefold() in known
        return found

    def _n_to_change(self, m: np.ndarray, u: np.ndarray) -> np.ndarray:
        """recipe.n_to_change for every text."""
        if self.rate <= 0:
            return np.zeros(len(m), dtype=np.int64)
        x = self.rate * m.astype(np.float64)
        floor = np.minimum(m, self.min_words)
        whole = np.floor(x)
        rounded = whole.astype(np.int64) + (u < x - whole)
        touched = np.where(u < x / np.maximum(floor, 1), floor, 0)
        k = np.where((floor <= 0) | (x >= floor), rounded, touched)
        return np.where(m == 0, 0, k)

    def _edit(self, cps, f, s, e, in_word, u):
        """One operation per chosen word [s, e): the new code point array, inserts and deletions."""
        u0, u1, u2, u3 = u
        out = cps.copy()
        length = e - s
        # the chosen words' characters, gathered: per-word counts and j-th sites come from small arrays
        owner = np.repeat(np.arange(len(s)), length)
        first = np.cumsum(length) - length
        local = np.arange(len(owner)) - first[owner]
        at = s[owner] + local
        ch, cf = cps[at], f[at]
        start = ((f[s] & UPPER) != 0).astype(np.int64)  # swap keeps a capital initial in place
        swappable = np.zeros(len(ch), dtype=bool)
        swappable[:-1] = (ch[:-1] != ch[1:]) & (local[:-1] < length[owner[:-1]] - 1)
        swappable &= local >= start[owner]
        script = (f[s].astype(np.int64) >> _SCRIPT_SHIFT) & 3
        model = self.model
        # substitution sites: syllables whose row offers another written one (Ge'ez words), else
        # letters of the word's own script
        own = ((cf.astype(np.int64) >> _SCRIPT_SHIFT) & 3) == script[owner]
        sub_site = np.where(script[owner] == 1, model.row_ok(ch), ((cf & ALPHA) != 0) & own)
        n_swap = _per_word(swappable, first)
        n_sub = _per_word(sub_site, first)
        applicable = {0: np.ones(len(s), dtype=bool), 1: length >= 2, 2: n_swap > 0, 3: n_sub > 0}
        mask = np.stack([applicable[op] for op in self.order], axis=1)
        cum = np.cumsum(mask * self.weights, axis=1)
        x = u0 * cum[:, -1]
        below = x[:, None] < cum
        pick = np.where(below.any(axis=1), below.argmax(axis=1),
                        len(self.order) - 1 - mask[:, ::-1].argmax(axis=1))  # fmt: skip
        op = np.array(self.order)[pick]

        sel = op == 0
        ins_pos = s[sel] + np.floor(u1[sel] * (length[sel] + 1)).astype(np.int64)
        ins_cp = np.empty(len(ins_pos), dtype=np.uint32)
        if sel.any():
            near_at = np.where(ins_pos > s[sel], ins_pos - 1, s[sel])  # the key typed just before
            near = cps[near_at]
            taken, key_cp = model.slip(_TABLES.lower[near], u2[sel], u3[sel])
            upper_word = ((in_word[sel] & UPPER) != 0) & ((in_word[sel] & LOWERISH) == 0)
            near_f = f[near_at].astype(np.int64)  # a letter of the script typed there, else the word's
            near_script = np.where((near_f & ALPHA) != 0, (near_f >> _SCRIPT_SHIFT) & 3, script[sel])
            for sc, lt in enumerate(model.tables):
                mk = (near_script == sc) & ~taken
                if mk.any():
                    j = lt.pick(u3[sel][mk])
                    ins_cp[mk] = np.where(upper_word[mk], lt.upper[j], lt.cps[j])
            if taken.any():
                ins_cp[taken] = np.where(upper_word[taken], _upper(key_cp[taken]), key_cp[taken])
        sel = op == 1
        deletes = s[sel] + np.floor(u1[sel] * length[sel]).astype(np.int64)
        sel = op == 2
        if sel.any():
            i = s[sel] + _jth(swappable, first, sel, np.floor(u1[sel] * n_swap[sel]).astype(np.int64))
            out[i], out[i + 1] = cps[i + 1], cps[i]
        sel = op == 3
        if sel.any():
            site = s[sel] + _jth(sub_site, first, sel, np.floor(u1[sel] * n_sub[sel]).astype(np.int64))
            sc_sel, uw, ul = script[sel], u2[sel], u3[sel]
            base_cp = cps[site]
            upper_site = (f[site] & UPPER) != 0
            new = np.empty(len(site), dtype=np.uint32)
            eth = sc_sel == 1
            if eth.any():  # another written syllable of the vowel-order row, by use
                row_cps, row_cum, row_total = model.rows()
                b = base_cp[eth].astype(np.int64) - _ETH_START
                x = ul[eth] * row_total[b]
                new[eth] = row_cps[b, (row_cum[b] <= x[:, None]).sum(axis=1)]
            low = _TABLES.lower[base_cp]
            taken, key_cp = model.slip(low, uw, ul)
            taken &= ~eth
            new[taken] = np.where(upper_site[taken], _upper(key_cp[taken]), key_cp[taken])
            for sc in (0, 2):  # the word's script (a substituted letter's own, see sub_site)
                mk = (sc_sel == sc) & ~taken
                if mk.any():
                    lt = model.tables[sc]
                    o = lt.pick_except(ul[mk], lt.find(low[mk]))
                    new[mk] = np.where(upper_site[mk], lt.upper[o], lt.cps[o])
            out[site] = new
        pos = np.zeros(len(s), dtype=np.int64)  # per word: where it inserts or deletes
        pos[op == 0], pos[op == 1] = ins_pos, deletes
        ins = np.zeros(len(s), dtype=np.uint32)  # per word: the letter it inserts
        ins[op == 0] = ins_cp
        return out, op, pos, ins


def _chars_of(s: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The positions of every character of the words [s, e)."""
    length = e - s
    owner = np.repeat(np.arange(len(s)), length)
    first = np.cumsum(length) - length
    return s[owner] + (np.arange(len(owner)) - first[owner])


def _edited_cps(out, s, e, op, pos, ins) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chosen words [s, e) after their one edit each (substitutions and swaps are already in
    `out`; `pos`/`ins` give each word's insertion or deletion), gathered into one code point array
    with each word's [start, end)."""
    length = e - s
    first = np.cumsum(length) - length
    gathered = out[_chars_of(s, e)]
    keep = np.ones(len(gathered), dtype=bool)
    deleting = np.flatnonzero(op == 1)
    keep[first[deleting] + (pos[deleting] - s[deleting])] = False
    inserting = np.flatnonzero(op == 0)
    ins_cp = ins[inserting]
    where = first[inserting] + (pos[inserting] - s[inserting])  # before this gathered character
    shift = np.cumsum(~keep)
    where_kept = where - np.concatenate(([0], shift))[where]
    cps = np.insert(gathered[keep], where_kept, ins_cp.astype(gathered.dtype))
    new_length = length + (op == 0) - (op == 1)
    ends = np.cumsum(new_length)
    return cps, ends - new_length, ends


def _upper(cps: np.ndarray) -> np.ndarray:
    """One-code-point upper case of keyboard letters (layout keys upper-case to one letter)."""
    return np.array([ord(chr(c).upper()) for c in cps.tolist()], dtype=np.uint32)


def _per_word(flags: np.ndarray, first: np.ndarray) -> np.ndarray:
    """How many of each gathered word's characters are flagged."""
    if not len(first):
        return np.zeros(0, dtype=np.int64)
    return np.add.reduceat(flags.astype(np.int64), first)


def _jth(flags: np.ndarray, first: np.ndarray, sel: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The offset within its word of each selected word's j-th flagged character."""
    cs = np.concatenate(([0], np.cumsum(flags)))
    hit = np.searchsorted(cs, cs[first[sel]] + j + 1, side="left") - 1
    return hit - first[sel]
