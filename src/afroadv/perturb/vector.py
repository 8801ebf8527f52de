"""Character noise for a whole batch of texts at once, in numpy: the generation kernel of recipes
made only of the four character operations (charnoise).

Word by word, CPython spends microseconds per word on bookkeeping; a batch of texts as one array
of code points costs nanoseconds per character. The kernel tokenises, judges, draws and edits
every text of a batch with array operations and touches Python once per text (to slice out the
result). It implements the recipe exactly as the per-word path does — the same tokens, the same
eligibility (numbers and likely names protected, capitals only sentence-initially), the same
operations with the same sites, letters and weights — but draws are *addressed* rather than
sequential, so they can be made in bulk:

    text draws come from the pair's stream key K at slots (side + 1)·2⁴⁰ + s, where
      s = 0            decides k (stochastic rounding of rate × eligible, at least min_words)
      s = 1 + i        gives eligible word i's sort key, the draw's top 40 bits: the words with the
                       k smallest keys are rewritten (equal keys: the earlier word first)
      s = 2²⁰ + 3i + j (j = 0, 1, 2) choose word i's operation, site and letter

`tests/test_vector.py` holds a plain-Python statement of the same rules and checks the kernel
against it draw for draw. Texts it does not take — a protected token (URL, e-mail, @user,
#hashtag), a combining mark, a letter outside Latin, Ge'ez and Arabic, or characters unknown
to this Python's Unicode tables — go through Perturber.perturb_text with the pair's sequential
stream; which path a text takes depends on the text alone.
"""

from __future__ import annotations

import codecs
import unicodedata
from itertools import repeat

import numpy as np

from afroadv.perturb.chars import _SIMPLE, CharDelete, CharInsert, CharSubstitute, CharSwap
from afroadv.perturb.rng import draw_bits_array, draws_array
from afroadv.perturb.scripts import ARABIC_LETTERS, ethiopic_first_orders, ethiopic_row, latin_letters
from afroadv.text import _SENTENCE_END, APOSTROPHES, ARABIC, ETHIOPIC, LATIN, char_script, has_digit, is_word_char

WORD, ALPHA, DIGIT, UPPER, LOWERISH, APOS, SENT, OUT, ETHSUB = (1 << i for i in range(9))
KNOWN = 1 << 15  # set for every learned code point: an unlearned one reads 0
_SCRIPT_SHIFT = 10  # two bits: 0 Latin, 1 Ge'ez, 2 Arabic
SCRIPTS = (LATIN, ETHIOPIC, ARABIC)
_OPS = {CharInsert: 0, CharDelete: 1, CharSwap: 2, CharSubstitute: 3}
SIDE_SLOT = 1 << 40
EDIT_SLOT = 1 << 20
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
    ):
        f |= OUT
    if script == ETHIOPIC and len(ethiopic_row(c)) > 1:
        f |= ETHSUB
    if script in SCRIPTS:
        f |= SCRIPTS.index(script) << _SCRIPT_SHIFT
    return f


class _Letters:
    """A script's typo letters as code points, with their upper case and each letter's index."""

    def __init__(self, letters: str):
        self.letters = letters
        self.cps = np.array([ord(c) for c in letters], dtype=np.uint32)
        self.upper = np.array([ord(c.upper()) for c in letters], dtype=np.uint32)
        self._sorted = np.argsort(self.cps, kind="stable")

    def find(self, cps: np.ndarray) -> np.ndarray:
        """Index of each code point among the letters, or -1."""
        pos = np.searchsorted(self.cps[self._sorted], cps)
        pos = np.minimum(pos, len(self.cps) - 1)
        hit = self.cps[self._sorted][pos] == cps
        return np.where(hit, self._sorted[pos], -1)


class _EthiopicRows:
    """For every Ge'ez code point: its vowel-order row (padded to 7), the row's length and where the
    letter stands in it (the length when it is not in its row: the 8th, labialised order)."""

    def __init__(self):
        n = _ETH_END - _ETH_START
        self.table = np.zeros((n, 7), dtype=np.uint32)
        self.length = np.zeros(n, dtype=np.int64)
        self.at = np.zeros(n, dtype=np.int64)
        for i in range(n):
            c = chr(_ETH_START + i)
            row = ethiopic_row(c)
            self.table[i, : len(row)] = [ord(x) for x in row]
            self.length[i] = len(row)
            self.at[i] = row.index(c) if c in row else len(row)


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
_ETH_START, _ETH_END = 0x1200, 0x13A0
_ETH_ROWS = None  # built at the first Ge'ez substitution


def _ethiopic_rows() -> _EthiopicRows:
    global _ETH_ROWS
    if _ETH_ROWS is None:
        _ETH_ROWS = _EthiopicRows()
    return _ETH_ROWS


class VectorKernel:
    """charnoise for many texts at once; `run` returns per text (text, words, eligible, changed) or None."""

    def __init__(self, perturber):
        recipe = perturber.recipe
        self.rate = recipe.rate
        self.min_words = recipe.min_words
        self.protect_names = "names" in recipe.protect
        self.order = [_OPS[type(t)] for t, _ in perturber.transformations]  # op codes in recipe order
        self.weights = np.array([w for _, w in perturber.transformations], dtype=np.float64)
        self.letters = [_Letters(latin_letters(perturber.lang.alphabet)), _Letters(ethiopic_first_orders()),
                        _Letters(ARABIC_LETTERS)]  # fmt: skip

    @classmethod
    def build(cls, perturber) -> VectorKernel | None:
        """Only for recipes the kernel states exactly: character operations, numbers protected, no stop
        words, and an alphabet whose letters upper-case to one letter each."""
        if (
            not perturber.transformations
            or not all(type(t) in _OPS for t, _ in perturber.transformations)
            or "numbers" not in perturber.recipe.protect
            or perturber.stopwords
            or any(len(c.upper()) != 1 for c in latin_letters(perturber.lang.alphabet))
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
        joined = "\n" + "\n".join(texts) + "\n"  # a sentence break before every text
        try:
            cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        except UnicodeEncodeError:  # lone surrogates: leave everything to the per-word path
            return [None] * n
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
        ws, we, tid, gap_before, in_word = ws[keep], we[keep], tid[keep], gap_before[keep], in_word[keep]

        eligible = (in_word & DIGIT) == 0
        if self.protect_names:
            cap = (f[ws] & UPPER) != 0
            acronym = cap & (we - ws > 1) & ((in_word & LOWERISH) == 0)
            initial = (gap_before & SENT) != 0
            eligible &= ~acronym & ~(cap & ~initial)
        n_words = np.bincount(tid, minlength=n)
        e_idx = np.flatnonzero(eligible)
        e_tid = tid[e_idx]
        m = np.bincount(e_tid, minlength=n)

        key = np.array(keys, dtype=_U64)
        base = (np.array(sides, dtype=np.int64) + 1) * SIDE_SLOT
        exact = self.rate * m.astype(np.float64)
        whole = np.floor(exact)
        k = whole.astype(np.int64) + (draws_array(key, base) < exact - whole)
        if self.rate > 0:
            k = np.minimum(m, np.maximum(k, self.min_words))
        offset = np.concatenate(([0], np.cumsum(m)[:-1]))
        rank = np.arange(len(e_idx)) - offset[e_tid]
        # one integer sort: text in the top 24 bits, the 40-bit key below (n < 2**24 texts per call)
        sort_key = (e_tid.astype(_U64) << _U64(40)) | (draw_bits_array(key[e_tid], base[e_tid] + 1 + rank) >> _U64(24))
        order = np.argsort(sort_key, kind="stable")
        chosen = np.sort(order[(np.arange(len(order)) - offset[e_tid[order]]) < k[e_tid[order]]])
        w_idx, c_tid, c_rank = e_idx[chosen], e_tid[chosen], rank[chosen]
        slot = base[c_tid] + EDIT_SLOT + 3 * c_rank
        ckey = key[c_tid]
        u = (draws_array(ckey, slot), draws_array(ckey, slot + 1), draws_array(ckey, slot + 2))
        out, (ins_pos, ins_cp), deletes = self._edit(cps, f, ws[w_idx], we[w_idx], in_word[w_idx], u)

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

    def _edit(self, cps, f, s, e, in_word, u):
        """One operation per chosen word [s, e): the new code point array, inserts and deletions."""
        u0, u1, u2 = u
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
        # substitution sites: letters with a vowel-order row (Ge'ez words), else letters (not apostrophes)
        sub_site = np.where(script[owner] == 1, (cf & ETHSUB) != 0, (cf & ALPHA) != 0)
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
            upper_word = ((in_word[sel] & UPPER) != 0) & ((in_word[sel] & LOWERISH) == 0)
            for sc, lt in enumerate(self.letters):
                mk = script[sel] == sc
                if mk.any():
                    j = np.floor(u2[sel][mk] * len(lt.cps)).astype(np.int64)
                    ins_cp[mk] = np.where(upper_word[mk], lt.upper[j], lt.cps[j])
        sel = op == 1
        deletes = s[sel] + np.floor(u1[sel] * length[sel]).astype(np.int64)
        sel = op == 2
        if sel.any():
            i = s[sel] + _jth(swappable, first, sel, np.floor(u1[sel] * n_swap[sel]).astype(np.int64))
            out[i], out[i + 1] = cps[i + 1], cps[i]
        sel = op == 3
        if sel.any():
            site = s[sel] + _jth(sub_site, first, sel, np.floor(u1[sel] * n_sub[sel]).astype(np.int64))
            sc_sel, u = script[sel], u2[sel]
            base_cp = cps[site]
            new = np.empty(len(site), dtype=np.uint32)
            eth = sc_sel == 1
            if eth.any():  # another letter of the vowel-order row
                rows = _ethiopic_rows()
                b = base_cp[eth].astype(np.int64) - _ETH_START
                row_len, at_ = rows.length[b], rows.at[b]
                o = np.floor(u[eth] * (row_len - (at_ < row_len))).astype(np.int64)
                new[eth] = rows.table[b, np.where(o < at_, o, o + 1)]
            for sc in (0, 2):  # the word's script decides the letters, whatever this letter's own
                mk = sc_sel == sc
                if mk.any():
                    lt = self.letters[sc]
                    li = lt.find(_TABLES.lower[base_cp[mk]])
                    o = np.floor(u[mk] * (len(lt.cps) - (li >= 0))).astype(np.int64)
                    o = np.where((li < 0) | (o < li), o, o + 1)
                    new[mk] = np.where((f[site[mk]] & UPPER) != 0, lt.upper[o], lt.cps[o])
            out[site] = new
        return out, (ins_pos, ins_cp), deletes


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
