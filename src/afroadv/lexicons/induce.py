"""Induce an X→English lexicon from line-aligned parallel text by statistical word alignment.

Method: IBM Model 1 with fast_align's diagonal prior (Dyer et al. 2013), trained by EM in numpy
in both directions; each direction's Viterbi links are intersected and the aligned word pairs
counted. We do not call `eflomal` although it aligns better on paper: it is a Gibbs sampler with
no seed option, so two runs on the same input give different links, and shipped lexicons (and
their sha256 in the manifest) must be reproducible. A few thousand sentences are enough for the
frequent words either way, and this takes 1–3 s per language on NTREX (1997 lines, one CPU).

Noise filters (rare and one-sided pairs are mostly wrong):
- count ≥ `min_count` in the intersection;
- the pair is the top, or within `rel_top` of the top, translation in BOTH directions;
- no numbers or punctuation on either side, no identical strings (names copied across: they
  code-switch nothing);
- English function words are dropped as targets unless the X word is an X stop word
  (function word ↔ function word is a real pair, content word → "the" is alignment noise), and
  so are one-letter targets (fragments such as the "s" of "U.S.").

The function-word list is the closed-class core below, not `data/stopwords/eng.txt`: that list
(stopwords-iso, 1298 words) also holds content words — world, year, man, home, work, two, new,
million — whose translations are exactly what code-switching needs (measured on NTREX Hausa it
would discard duniya→world, shekara→year, mutum→man, gida→home, aiki→work, biyu→two).

The near-top test is asymmetric: an X word must mostly mean its English word (`rel_top`, 0.5),
while an English word may have several X forms (`rel_top_eng`, 0.2) because inflected variants
(shugaban/shugaba → president, gwamnatin/gwamnati → government) are real and feed `lexsub`.

Tokens are the project's `afroadv.text.words()`, casefolded and NFC, so that keys match what the
perturbers look up.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from scipy.special import digamma

from afroadv.data.readers import read_lines
from afroadv.data.writers import atomic_path
from afroadv.errors import AfroadvError
from afroadv.text import words

Entry = tuple[str, str, int]  # (word, english, weight = intersection alignment count)

HEADER = ("word", "english", "weight", "origin")

# fast_align defaults: tension of the diagonal prior, probability of the NULL word,
# variational-Bayes Dirichlet concentration that keeps t(e|f) sparse.
_TENSION = 4.0
_P_NULL = 0.08
_ALPHA = 0.01


def tokenize(line: str) -> list[str]:
    """The project tokenizer, casefolded and NFC: the form lexicon keys are stored in."""
    return [unicodedata.normalize("NFC", w.casefold()) for w in words(unicodedata.normalize("NFC", line))]


def is_lexical(token: str) -> bool:
    """True for a word with at least one letter and no digit (drops numbers, 2019, 5g, ...)."""
    has_letter = False
    for ch in token:
        cat = unicodedata.category(ch)
        if cat[0] == "N":
            return False
        if cat[0] == "L":
            has_letter = True
    return has_letter


class _Vocab:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.words: list[str] = []

    def encode(self, toks: Sequence[str]) -> np.ndarray:
        out = np.empty(len(toks), dtype=np.int64)
        for k, t in enumerate(toks):
            i = self.index.get(t)
            if i is None:
                i = self.index[t] = len(self.words)
                self.words.append(t)
            out[k] = i
        return out


def _viterbi_links(src: list[np.ndarray], trg: list[np.ndarray], n_src_vocab: int, iterations: int) -> np.ndarray:
    """Train Model 1 + diagonal prior generating `trg` from `src` (+NULL); return Viterbi links.

    Returns an int64 array of shape (L, 3): sentence index, source position, target position.
    All (target position, source position) candidates of the corpus are laid out flat, grouped
    by target token, so each EM step is a handful of vectorised numpy reductions.
    """
    f_ids, e_ids, prior, group_sizes, sent_of, i_of, j_of = [], [], [], [], [], [], []
    for k, (f, e) in enumerate(zip(src, trg)):
        m, n = len(f), len(e)
        if m == 0 or n == 0:
            continue
        # candidates for each target j: NULL (index 0) then source words 1..m
        fi = np.concatenate(([n_src_vocab], f))  # NULL gets id n_src_vocab
        ii = np.arange(m + 1)
        jj = np.arange(1, n + 1)
        h = -np.abs(ii[None, 1:] / m - jj[:, None] / n)
        w = np.exp(_TENSION * h)
        w = (1.0 - _P_NULL) * w / w.sum(axis=1, keepdims=True)
        a = np.concatenate((np.full((n, 1), _P_NULL), w), axis=1)
        f_ids.append(np.tile(fi, n))
        e_ids.append(np.repeat(e, m + 1))
        prior.append(a.ravel())
        group_sizes.append(np.full(n, m + 1))
        sent_of.append(np.full(n * (m + 1), k))
        i_of.append(np.tile(ii, n))
        j_of.append(np.repeat(np.arange(n), m + 1))
    if not f_ids:
        return np.zeros((0, 3), dtype=np.int64)
    f_all = np.concatenate(f_ids)
    e_all = np.concatenate(e_ids)
    a_all = np.concatenate(prior)
    sizes = np.concatenate(group_sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    group_of = np.repeat(np.arange(len(sizes)), sizes)

    n_trg_vocab = int(e_all.max()) + 1
    keys = f_all * n_trg_vocab + e_all
    uniq, pair = np.unique(keys, return_inverse=True)
    pair_f = uniq // n_trg_vocab
    t = np.ones(len(uniq))
    for _ in range(iterations):
        p = t[pair] * a_all
        z = np.add.reduceat(p, starts)
        post = p / z[group_of]
        c = np.bincount(pair, weights=post, minlength=len(uniq))
        tot = np.bincount(pair_f, weights=c, minlength=n_src_vocab + 1)
        n_types = np.bincount(pair_f, minlength=n_src_vocab + 1)
        # mean-field VB update: exp(ψ(c+α)) / exp(ψ(Σc + α·V)) keeps rare words' t sparse
        t = np.exp(digamma(c + _ALPHA) - digamma(tot[pair_f] + _ALPHA * n_types[pair_f]))
    p = t[pair] * a_all
    best = np.maximum.reduceat(p, starts)
    hit = np.flatnonzero(p == best[group_of])
    _, first = np.unique(group_of[hit], return_index=True)  # lowest source position wins ties
    win = hit[first]
    i_all = np.concatenate(i_of)
    win = win[i_all[win] > 0]  # drop links to NULL
    return np.stack((np.concatenate(sent_of)[win], i_all[win] - 1, np.concatenate(j_of)[win]), axis=1)


def align_counts(
    src_lines: Iterable[str], eng_lines: Iterable[str], iterations: int = 5, max_len: int = 100
) -> dict[tuple[str, str], int]:
    """Count (x_word, eng_word) links in the intersection of both alignment directions.

    Pairs of lines where either side is empty or longer than `max_len` tokens are skipped
    (long lines cost quadratic memory and align badly).
    """
    src_lines, eng_lines = list(src_lines), list(eng_lines)
    if len(src_lines) != len(eng_lines):
        raise AfroadvError(f"parallel text is not line-aligned: {len(src_lines)} vs {len(eng_lines)} lines")
    xv, ev = _Vocab(), _Vocab()
    xs, es = [], []
    for x_line, e_line in zip(src_lines, eng_lines):
        xt, et = tokenize(x_line), tokenize(e_line)
        if not xt or not et or len(xt) > max_len or len(et) > max_len:
            continue
        xs.append(xv.encode(xt))
        es.append(ev.encode(et))
    if not xs:
        return {}
    fwd = _viterbi_links(xs, es, len(xv.words), iterations)  # (k, x pos, e pos)
    rev = _viterbi_links(es, xs, len(ev.words), iterations)  # (k, e pos, x pos)
    big = max(max(len(s) for s in xs), max(len(s) for s in es)) + 1
    fkey = (fwd[:, 0] * big + fwd[:, 1]) * big + fwd[:, 2]
    rkey = (rev[:, 0] * big + rev[:, 2]) * big + rev[:, 1]
    both = np.intersect1d(fkey, rkey)
    k, rest = np.divmod(both, big * big)
    xi, ej = np.divmod(rest, big)
    counts: dict[tuple[str, str], int] = {}
    for kk, a, b in zip(k.tolist(), xi.tolist(), ej.tolist()):
        key = (xv.words[xs[kk][a]], ev.words[es[kk][b]])
        counts[key] = counts.get(key, 0) + 1
    return counts


# Closed-class English: articles, pronouns, prepositions, conjunctions, auxiliaries, wh-words.
ENG_FUNCTION_WORDS = frozenset(
    """
    a an the this that these those some any each every either neither no all both another other
    such what which whose whatever whichever who whom whoever whatsoever
    i me my mine myself you your yours yourself yourselves he him his himself she her hers herself
    it its itself we us our ours ourselves they them their theirs themselves one ones
    someone anyone everyone something anything everything nothing nobody somebody anybody
    of in on at to for from by with about into onto upon over under above below between among
    through during before after since until till against without within along across around
    behind beyond near off out up down via per than as like toward towards amid despite except
    and or but nor so yet if because although though while whereas unless whether
    when where why how then there here
    be am is are was were been being have has had having do does did done
    will would shall should can could may might must not
    it's he's she's that's there's what's who's let's i'm you're we're they're i've you've we've
    they've i'll you'll he'll she'll we'll they'll i'd you'd he'd she'd we'd they'd
    don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't couldn't shouldn't
    haven't hasn't hadn't
    """.split()
)


def default_eng_stopwords() -> frozenset[str]:
    """English function words that are alignment noise as translation targets."""
    return ENG_FUNCTION_WORDS


def induce_lexicon(
    src_lines: Iterable[str],
    eng_lines: Iterable[str],
    min_count: int = 2,
    rel_top: float = 0.5,
    rel_top_eng: float = 0.2,
    src_stopwords: Iterable[str] = (),
    eng_stopwords: Iterable[str] | None = None,
    iterations: int = 5,
) -> list[Entry]:
    """Word pairs (x_word, english, count) induced from line-aligned X and English text.

    Deterministic: the same lines give the same list, sorted by word, then count (descending),
    then English. A pair is kept when its count is at least `rel_top` × the best count of its
    X word AND `rel_top_eng` × the best count of its English word (see the module docstring).
    """
    counts = align_counts(src_lines, eng_lines, iterations=iterations)
    x_stop = {unicodedata.normalize("NFC", w.casefold()) for w in src_stopwords}
    e_stop = default_eng_stopwords() if eng_stopwords is None else {w.casefold() for w in eng_stopwords}
    best_x: dict[str, int] = {}
    best_e: dict[str, int] = {}
    for (x, e), c in counts.items():
        best_x[x] = max(best_x.get(x, 0), c)
        best_e[e] = max(best_e.get(e, 0), c)
    out: list[Entry] = []
    for (x, e), c in counts.items():
        if c < min_count or c < rel_top * best_x[x] or c < rel_top_eng * best_e[e]:
            continue
        if x == e or not is_lexical(x) or not is_lexical(e):
            continue
        if len(e) == 1 and e not in ("a", "i"):
            continue
        if e in e_stop and x not in x_stop:
            continue
        out.append((x, e, c))
    out.sort(key=lambda r: (r[0], -r[2], r[1]))
    return out


def write_tsv(rows: Iterable[tuple[str, str, float | int, str]], out_path: str | os.PathLike) -> Path:
    """Write a lexicon TSV atomically: readers never see a half-written lexicon."""
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(HEADER) + "\n")
        for word, english, weight, origin in rows:
            for field in (word, english, origin):
                if "\t" in field or "\n" in field:
                    raise ValueError(f"tab or newline in lexicon field {field!r}")
            w = int(weight) if float(weight).is_integer() else weight
            f.write(f"{word}\t{english}\t{w}\t{origin}\n")
    return out_path


def run_induce(
    src_path: str | os.PathLike,
    eng_path: str | os.PathLike,
    out_path: str | os.PathLike,
    min_count: int = 2,
    src_stopwords: Iterable[str] = (),
    origin: str = "induced",
) -> int:
    """CLI entry: induce from two line-aligned files and write one lexicon TSV; returns row count."""
    entries = induce_lexicon(read_lines(src_path), read_lines(eng_path), min_count=min_count, src_stopwords=src_stopwords)
    write_tsv(((w, e, c, origin) for w, e, c in entries), out_path)
    return len(entries)
