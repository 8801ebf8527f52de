"""Induce an X→English lexicon from line-aligned parallel text by statistical word alignment, keeping
only what the alignment is confident about.

Alignment: IBM Model 1 with fast_align's diagonal prior (Dyer et al. 2013), trained by EM in numpy
in both directions; each direction's Viterbi links are kept, and their intersection. We do not
call `eflomal` although it aligns better on paper: it is a Gibbs sampler with no seed option, and
shipped lexicons (and their sha256) must be reproducible.

What the links say about an X word x (`WordEvidence`): how often it occurs, how often it links to
nothing (NULL), the distribution of English words it links to, grouped by English lemma (months /
month), its entropy, and the share going to English function words. An entry x → e is kept only
when all of these agree that e is what x means (`Thresholds`):
- the pair is linked in both directions at least `min_count` times, and most of the pair's
  one-directional links are in the intersection (`min_agreement`);
- e's lemma (with its counter-fitted synonyms) takes at least `min_share` of x's links and x's
  translation entropy is low;
- x is among e's main X forms (`min_share_eng`: inflected variants may share an English word);
- x is not a function word of its language (`learn_function_words`), e is not an English function
  word, and neither is a name (English proper nouns, strings copied across) or a fragment.

The same evidence gives the language's function words (frequent words that link mostly to English
function words or to nothing, or to many things), its number words (linked to English numbers),
and its names (linked to English proper nouns, including multi-word ones such as አዲስ አበባ).

Tokens are the project's `afroadv.text.words()`, casefolded and NFC, so that keys match what the
perturbers look up.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import digamma

from afroadv.data.readers import read_lines
from afroadv.data.writers import atomic_path
from afroadv.errors import AfroadvError
from afroadv.lexicons.english import FUNCTION_WORDS, EnglishProfile, lemma, synonyms
from afroadv.text import ETHIOPIC, ARABIC, word_script, words

HEADER = ("word", "english", "weight", "origin", "pos")

# fast_align defaults: tension of the diagonal prior, probability of the NULL word,
# variational-Bayes Dirichlet concentration that keeps t(e|f) sparse.
_TENSION = 4.0
_P_NULL = 0.08
_ALPHA = 0.01

_PREPOSITIONS = frozenset("of in at on by for to from with under over".split())

NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
    thousand million billion trillion dozen half""".split()
)


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


@dataclass
class Alignment:
    """Link counts of a parallel corpus, in both directions and their intersection."""

    x_count: Counter = field(default_factory=Counter)  # occurrences of each X word
    x_links: dict = field(default_factory=dict)  # X word -> Counter of English words its tokens link to
    e_links: dict = field(default_factory=dict)  # English word -> Counter of X words its tokens link to
    both: Counter = field(default_factory=Counter)  # (x, e) links found in both directions
    names: Counter = field(default_factory=Counter)  # X word sequences linked to English proper-noun runs
    neighbours: dict = field(default_factory=dict)  # X word -> Counter of ("<"|">", word) beside it
    # (x, e) links where e follows an English preposition linked to nothing: x is the whole idiom
    # (Afrikaans natuurlik ↔ "of course", not "course")
    idiom: Counter = field(default_factory=Counter)
    n_lines: int = 0

    def collocation(self, x: str) -> float:
        """The share of x's occurrences beside its most frequent neighbour: high for a part of a
        fixed expression ('yan sanda = police), whose one-word translation is the expression's."""
        nb = self.neighbours.get(x)
        return max(nb.values()) / self.x_count[x] if nb else 0.0


@dataclass(frozen=True)
class WordEvidence:
    """What the links say about one X word."""

    count: int
    null_share: float  # share of its tokens linked to nothing
    function_share: float  # share of its links to English function words
    number_share: float  # share of its links to English numbers (words or digits)
    entropy: float  # of its English links, in bits
    best: str  # the English lemma it links to most
    best_share: float  # that lemma's share of its links


def align(src_lines: Iterable[str], eng_lines: Iterable[str], iterations: int = 5, max_len: int = 100,
          profile: EnglishProfile | None = None) -> Alignment:
    """Align line-aligned X and English text; count links (and name runs when `profile` is given).

    Pairs of lines where either side is empty or longer than `max_len` tokens are skipped (long
    lines cost quadratic memory and align badly)."""
    src_lines, eng_lines = list(src_lines), list(eng_lines)
    if len(src_lines) != len(eng_lines):
        raise AfroadvError(f"parallel text is not line-aligned: {len(src_lines)} vs {len(eng_lines)} lines")
    xv, ev = _Vocab(), _Vocab()
    xs, es, raw_e = [], [], []
    for x_line, e_line in zip(src_lines, eng_lines):
        xt, et = tokenize(x_line), tokenize(e_line)
        if not xt or not et or len(xt) > max_len or len(et) > max_len:
            continue
        xs.append(xv.encode(xt))
        es.append(ev.encode(et))
        raw_e.append(et)
    al = Alignment(n_lines=len(xs))
    if not xs:
        return al
    for s in xs:
        toks = [xv.words[t] for t in s.tolist()]
        al.x_count.update(toks)
        for a, b in zip(toks, toks[1:]):
            al.neighbours.setdefault(a, Counter())[(">", b)] += 1
            al.neighbours.setdefault(b, Counter())[("<", a)] += 1
    fwd = _viterbi_links(xs, es, len(xv.words), iterations)  # (k, x pos, e pos): each English token's link
    rev = _viterbi_links(es, xs, len(ev.words), iterations)  # (k, e pos, x pos): each X token's link
    for k, i, j in rev.tolist():
        x, e = xv.words[xs[k][j]], ev.words[es[k][i]]
        al.x_links.setdefault(x, Counter())[e] += 1
    for k, i, j in fwd.tolist():
        x, e = xv.words[xs[k][i]], ev.words[es[k][j]]
        al.e_links.setdefault(e, Counter())[x] += 1
    big = max(max(len(s) for s in xs), max(len(s) for s in es)) + 1
    fkey = (fwd[:, 0] * big + fwd[:, 1]) * big + fwd[:, 2]
    rkey = (rev[:, 0] * big + rev[:, 2]) * big + rev[:, 1]
    both = np.intersect1d(fkey, rkey)
    k, rest = np.divmod(both, big * big)
    xi, ej = np.divmod(rest, big)
    per_line: dict[int, list[tuple[int, int]]] = {}
    for kk, a, b in zip(k.tolist(), xi.tolist(), ej.tolist()):
        al.both[(xv.words[xs[kk][a]], ev.words[es[kk][b]])] += 1
        per_line.setdefault(kk, []).append((a, b))
    for kk, links in per_line.items():
        linked_e = {b for _, b in links}
        toks = raw_e[kk]
        for a, b in links:
            if b and toks[b - 1] in _PREPOSITIONS and b - 1 not in linked_e:
                al.idiom[(xv.words[xs[kk][a]], toks[b])] += 1
    if profile is not None:
        for kk, links in per_line.items():
            _count_name_runs(al, [xv.words[t] for t in xs[kk].tolist()], raw_e[kk], links, profile)
    return al


def _count_name_runs(al: Alignment, x_toks: list[str], e_toks: list[str], links, profile: EnglishProfile) -> None:
    """Runs of adjacent X words linked to adjacent English proper nouns (Addis Ababa ↔ አዲስ አበባ)."""
    proper = {a: b for a, b in links if profile.is_proper(e_toks[b])}
    run: list[int] = []
    for a in sorted(proper) + [None]:
        if run and (a is None or a != run[-1] + 1 or abs(proper[a] - proper[run[-1]]) != 1):
            al.names[" ".join(x_toks[i] for i in run)] += 1
            run = []
        if a is not None:
            run.append(a)


def evidence(al: Alignment, x: str) -> WordEvidence:
    n = al.x_count[x]
    links = al.x_links.get(x, Counter())
    aligned = sum(links.values())
    by_lemma: Counter = Counter()
    for e, c in links.items():
        by_lemma[lemma(e)] += c
    best, best_c = min(by_lemma.items(), key=lambda kv: (-kv[1], kv[0])) if by_lemma else ("", 0)
    if best:  # near-synonyms of the best lemma (president / chairman) are the same meaning
        near = {lemma(s) for s in synonyms().get(best, ())} - {best}
        best_c += sum(c for lem, c in by_lemma.items() if lem in near)
    share = lambda pred: sum(c for e, c in links.items() if pred(e)) / aligned if aligned else 0.0  # noqa: E731
    entropy = -sum(c / aligned * math.log2(c / aligned) for c in links.values()) if aligned else 0.0
    return WordEvidence(
        count=n,
        null_share=1 - aligned / n if n else 0.0,
        function_share=share(lambda e: e in FUNCTION_WORDS),
        number_share=share(lambda e: e in NUMBER_WORDS or e.isdigit()),
        entropy=entropy,
        best=best,
        best_share=best_c / aligned if aligned else 0.0,
    )


@dataclass(frozen=True)
class Thresholds:
    min_count: int = 3  # links in both directions
    min_agreement: float = 0.5  # of the pair's one-directional links, the share that agree
    min_share: float = 0.7  # of the X word's links, the share of its best English lemma
    max_entropy: float = 3.0  # bits, of the X word's English links
    min_share_eng: float = 0.2  # of the English word's links, the share to this X word
    function_share: float = 0.4  # an X word linking this much to English function words is one
    function_null: float = 0.5  # ... or linking this often to nothing
    function_entropy: float = 4.0  # ... or this spread out (when frequent)
    function_min_count: int = 5
    frequent: int = 30
    number_share: float = 0.4
    max_collocation: float = 0.5  # an X word this bound to one neighbour is part of an expression
    max_verb_share: float = 0.15  # a noun entry's word linking this much to English verbs is a verb too
    max_idiom_share: float = 0.5  # an entry whose links mostly sit in an unlinked English PP is an idiom


def learn_function_words(al: Alignment, th: Thresholds = Thresholds(), known: Iterable[str] = ()) -> set[str]:
    """Frequent X words the alignment treats as grammar: mostly linked to English function words
    or to nothing, or spread over many English words; plus the language's known stop words."""
    out = {unicodedata.normalize("NFC", w.casefold()) for w in known}
    for x, n in al.x_count.items():
        if n < th.function_min_count or not is_lexical(x):
            continue
        ev = evidence(al, x)
        if (ev.function_share >= th.function_share or ev.null_share >= th.function_null
                or (n >= th.frequent and ev.entropy >= th.function_entropy)):  # fmt: skip
            out.add(x)
    return out


def learn_number_words(al: Alignment, th: Thresholds = Thresholds()) -> set[str]:
    """X words linked mostly to English numbers (two, million, 2): protected like digits."""
    return {x for x, n in al.x_count.items() if n >= 2 and is_lexical(x)
            and evidence(al, x).number_share >= th.number_share}  # fmt: skip


def learn_names(al: Alignment, profile: EnglishProfile, min_count: int = 2, min_share: float = 0.6) -> dict[str, str]:
    """X words whose links go mostly to one English proper noun (or to the same string), and runs
    of X words linked to runs of English proper nouns (አዲስ አበባ ↔ Addis Ababa): name -> its English
    spelling for one-word names ("" for runs: their words are spelled as a whole elsewhere)."""
    out = {seq: "" for seq, c in al.names.items()
           if c >= min_count and " " in seq and all(is_lexical(w) for w in seq.split(" "))}  # fmt: skip
    for x, n in al.x_count.items():
        links = al.x_links.get(x)
        if not links or n < min_count or not is_lexical(x):
            continue
        e, c = min(links.items(), key=lambda kv: (-kv[1], kv[0]))
        if (profile.is_proper(e) or e == x) and c >= min_share * sum(links.values()):
            out[x] = e if is_lexical(e) else ""
    return out


def _fragment(word: str) -> bool:
    """Too short to be a content word of its script (the "s" of U.S., a clitic)."""
    return len(word) < (2 if word_script(word) in (ETHIOPIC, ARABIC) else 3)


@dataclass(frozen=True)
class Entry:
    word: str
    english: str
    count: int  # links in both directions
    share: float  # of the word's links, its English lemma's share
    agreement: float
    pos: str


def confident_entries(al: Alignment, profile: EnglishProfile, function_words: set[str], names: set[str],
                      numbers: set[str], th: Thresholds = Thresholds()) -> list[Entry]:
    """One entry per X word the alignment is confident about (see the module docstring)."""
    out = []
    for x in sorted(al.x_count):
        if al.x_count[x] < th.min_count or x in function_words or x in names or x in numbers:
            continue
        if not is_lexical(x) or _fragment(x) or al.collocation(x) >= th.max_collocation:
            continue
        ev = evidence(al, x)
        if ev.best_share < th.min_share or ev.entropy > th.max_entropy:
            continue
        links = al.x_links[x]
        forms = [e for e in links if lemma(e) == ev.best]
        # the surface form linked most in both directions; counts, never the alphabet, decide
        e = max(forms, key=lambda f: (al.both[(x, f)], links[f], al.e_links.get(f, Counter())[x], -len(f)))
        c = al.both[(x, e)]
        one_way = max(links[e], al.e_links.get(e, Counter())[x])
        e_total = sum(al.e_links.get(e, Counter()).values())
        if c < th.min_count or c < th.min_agreement * one_way:
            continue
        if e_total and al.e_links[e][x] < th.min_share_eng * max(al.e_links[e].values()):
            continue
        if e in FUNCTION_WORDS or e == x or not is_lexical(e) or _fragment(e) or profile.is_proper(e):
            continue
        if al.idiom[(x, e)] >= th.max_idiom_share * c:
            continue
        pos = profile.pos(e)
        verbs = sum(n for f, n in links.items() if profile.is_verb_only(f))
        if pos == "noun" and verbs >= th.max_verb_share * sum(links.values()):
            pos = "noun-ambiguous"  # (Afrikaans besluit: "decision" and "decided")
        out.append(Entry(x, e, c, round(ev.best_share, 4), round(c / one_way, 4), pos))
    return out


def induce_lexicon(src_lines: Iterable[str], eng_lines: Iterable[str], src_stopwords: Iterable[str] = (),
                   th: Thresholds = Thresholds(), profile: EnglishProfile | None = None) -> list[Entry]:
    """Confident entries induced from line-aligned X and English text (deterministic, sorted by word)."""
    src_lines, eng_lines = list(src_lines), list(eng_lines)
    profile = profile or EnglishProfile(eng_lines)
    al = align(src_lines, eng_lines, profile=profile)
    fw = learn_function_words(al, th, src_stopwords)
    return confident_entries(al, profile, fw, learn_names(al, profile), learn_number_words(al, th), th)


def write_tsv(rows: Iterable[tuple[str, str, float | int, str, str]], out_path: str | os.PathLike) -> Path:
    """Write a lexicon TSV (word, english, weight, origin, pos) atomically: readers never see a
    half-written lexicon."""
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(HEADER) + "\n")
        for word, english, weight, origin, pos in rows:
            for field_ in (word, english, origin, pos):
                if "\t" in field_ or "\n" in field_:
                    raise ValueError(f"tab or newline in lexicon field {field_!r}")
            w = int(weight) if float(weight).is_integer() else weight
            f.write(f"{word}\t{english}\t{w}\t{origin}\t{pos}\n")
    return out_path


def run_induce(
    src_path: str | os.PathLike,
    eng_path: str | os.PathLike,
    out_path: str | os.PathLike,
    min_count: int = 3,
    src_stopwords: Iterable[str] = (),
    origin: str = "induced",
) -> int:
    """CLI entry: induce from two line-aligned files and write one lexicon TSV; returns row count.
    Parts of speech are filled in when lemminflect is installed (code-switching uses nouns)."""
    from afroadv.data.writers import check_destination
    from afroadv.options import check_count

    th = Thresholds(min_count=check_count(min_count, "--min-count"))
    check_destination(Path(out_path), "lexicon")
    entries = induce_lexicon(read_lines(src_path), read_lines(eng_path), src_stopwords=src_stopwords, th=th)
    write_tsv(((e.word, e.english, e.count, origin, e.pos) for e in entries), out_path)
    return len(entries)
