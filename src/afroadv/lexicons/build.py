"""Build the shipped lexicons `data/lexicons/{code}-eng.tsv`, their MANIFEST.json and README.md.

A maintainer tool: it reads the source data in `../shared/data` (NTREX-128, GATITOS, WOLD), which
a user's clone does not have. Every language in languages.yaml with a `lexicon:` code gets a file:
- the entries the NTREX-128 alignment is confident about (`afroadv.lexicons.induce`), one per word;
- GATITOS (CC BY 4.0) and WOLD (CC BY 4.0) entries where those cover the language, except where
  running text contradicts them (a word NTREX links mostly to something else: Hausa "inji" is
  "said" in news, not WOLD's "machine"), and never the language's function, number or name words.
Every entry carries the part of speech of its English side (`pos`): code-switching inserts nouns.
Only X-side entries that are one token of the project tokenizer are kept: perturbers look words
up one token at a time, so a multi-word X form could never match.

Precision@1 is measured per language and origin against dictionaries held apart from the
induction (WOLD for Hausa and Swahili, GATITOS where it covers the language; English compared by
lemma, strictly and with counter-fitted synonyms), misses adjudicated by reviewers, and on a
reviewed random sample of the entries code-switching uses (data/lexicons/review/*.tsv). A lexicon
whose measured precision is under 85% is not used by default (MANIFEST `default_use`).

Output is deterministic (sorted rows, no timestamps), so re-running the build on the same sources
reproduces the same sha256 in the manifest.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.langs import registry
from afroadv.data.readers import read_lines
from afroadv.data.writers import write_text_atomic
from afroadv.lexicons.english import FUNCTION_WORDS, lemma, synonyms
from afroadv.lexicons.induce import Thresholds, confident_entries, is_lexical, tokenize, write_tsv
from afroadv.lexicons.reference import Precision, dictionary_reference, precision_at_1, reference_rows
from afroadv.lexicons.store import load_lexicon
from afroadv.text import APOSTROPHES
from afroadv.words import word_classes
from afroadv.resources import data_dir, sha256_file, shared_data_dir

Row = tuple[str, str, int, str, str]  # word, english, weight, origin, pos

NTREX = "ntrex-induced"
GATITOS = "gatitos"
WOLD = "wold"
RELATED = "gatitos-related"  # a related language's GATITOS entries, for words this language's corpora attest

SOURCES = {
    NTREX: {
        "name": "NTREX-128 (newstest2019 references), word-aligned by afroadv.lexicons.induce",
        "url": "https://github.com/MicrosoftTranslator/NTREX",
        "licence": "CC-BY-SA-4.0",
        "citation": (
            "Christian Federmann, Tom Kocmi and Ying Xin. 2022. NTREX-128 – News Test References "
            "for MT Evaluation of 128 Languages. In Proceedings of the First Workshop on Scaling Up "
            "Multilingual Evaluation (SUMEval), pages 21–24."
        ),
    },
    GATITOS: {
        "name": "GATITOS multilingual lexicon",
        "url": "https://github.com/google-research/url-nlp/tree/main/gatitos",
        "licence": "CC-BY-4.0",
        "citation": (
            "Alex Jones, Isaac Caswell, Ishank Saxena and Orhan Firat. 2023. Bilex Rx: Lexical Data "
            "Augmentation for Massively Multilingual Machine Translation. arXiv:2303.15265."
        ),
    },
    RELATED: {
        "name": "GATITOS entries of a closely related language (Kirundi for Kinyarwanda), kept for words spelled "
        "the same that the language's own corpora attest at least twice",
        "url": "https://github.com/google-research/url-nlp/tree/main/gatitos",
        "licence": "CC-BY-4.0",
        "citation": (
            "Alex Jones, Isaac Caswell, Ishank Saxena and Orhan Firat. 2023. Bilex Rx: Lexical Data "
            "Augmentation for Massively Multilingual Machine Translation. arXiv:2303.15265."
        ),
    },
    WOLD: {
        "name": "World Loanword Database (WOLD) meaning lists",
        "url": "https://wold.clld.org (data: https://github.com/lexibank/wold)",
        "licence": "CC-BY-4.0",
        "citation": (
            "Martin Haspelmath and Uri Tadmor (eds.). 2009. World Loanword Database. Leipzig: Max "
            "Planck Institute for Evolutionary Anthropology. https://wold.clld.org"
        ),
    },
}

# languages.yaml code -> GATITOS file code (en_{code}.tsv)
GATITOS_CODES = {"run": "rn", "ary": "ar-MA", "orm": "om", "tir": "ti", "nso": "nso", "tsn": "tn", "ven": "ve", "ssw": "ss"}
# languages.yaml code -> WOLD meaning-form list
WOLD_FILES = {"swa": "wold_swahili_meaning_form.tsv", "hau": "wold_hausa_meaning_form.tsv"}
# languages with a SemRel 2024 test set: coverage is measured on its text
COVERAGE_LANGS = ("afr", "amh", "hau", "kin")

_PARENS = re.compile(r"\([^()]*\)")
_SPACES = re.compile(r"\s+")
_LONG_VOWEL = re.compile(r"([aeiou])\1")


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _clean(s: str) -> str:
    return _SPACES.sub(" ", _PARENS.sub(" ", s)).strip()


def single_token(form: str) -> str | None:
    """The casefolded NFC form when it is exactly one project token, else None."""
    form = _nfc(form.casefold()).strip()
    toks = tokenize(form)
    if len(toks) == 1 and toks[0] == form and is_lexical(form):
        return form
    return None


def _english_ok(e: str) -> bool:
    return bool(e) and any(ch.isalpha() for ch in e) and not any(ch.isdigit() for ch in e)


# --- GATITOS ---------------------------------------------------------------------------------


def gatitos_rows(path: Path) -> list[Row]:
    """English<TAB>translation lines → (word, english, 1, 'gatitos') for one-token translations.

    Translator notes in parentheses are removed; "a, b" / "a/b" / "a; b" give one row each.
    """
    rows: list[Row] = []
    for line in read_lines(path):
        parts = line.split("\t")
        if len(parts) != 2:
            continue
        english = _nfc(_clean(parts[0]).casefold())
        if not _english_ok(english):
            continue
        for form in re.split(r"[,/;]", _clean(parts[1])):
            word = single_token(form)
            if word and word != english:
                rows.append((word, english, 1, GATITOS, ""))
    return rows


# --- WOLD ------------------------------------------------------------------------------------


def clean_wold_meaning(meaning: str) -> list[str]:
    """'the world' → ['world'], 'to eat' → ['eat'], 'the woods or forest' → ['woods', 'forest'].

    Sense numbers '(2)' and notes in parentheses go; '/' and ' or ' separate synonyms.
    """
    m = _clean(meaning.replace("?", " ")).casefold()
    out = []
    for part in re.split(r"/| or ", m):
        part = part.strip()
        for prefix in ("the ", "to ", "a ", "an "):
            if part.startswith(prefix):
                part = part[len(prefix) :]
                break
        part = part.strip()
        if _english_ok(part) and part not in out:
            out.append(_nfc(part))
    return out


def hausa_plain(form: str) -> str:
    """WOLD Hausa 'rúwáa' → running-text 'ruwa': drop tone/length marks and doubled long vowels.

    Everyday Hausa orthography marks neither tone nor vowel length; WOLD writes length as a
    doubled vowel. Measured on the SemRel hau test text: 402 WOLD one-token forms occur after
    removing marks AND undoubling, 99 after removing marks only, 1 as written.
    The hooked letters ɓ ɗ ƙ ƴ are letters, not combining marks, and survive.
    """
    d = unicodedata.normalize("NFD", form)
    d = "".join(ch for ch in d if not unicodedata.combining(ch))
    return _nfc(_LONG_VOWEL.sub(r"\1", _nfc(d)))


def wold_rows(path: Path, lang: str) -> list[Row]:
    """WOLD `meaning_id, english_meaning, form` → rows; Swahili verb stems ('-la') are skipped.

    A Swahili stem is never a word of running text (it always carries prefixes), so it could
    never be looked up. Hausa forms are kept in plain spelling only (hausa_plain): running text
    carries no tone marks, and a lexicon must never put marks into a text that has none.
    """
    rows: list[Row] = []
    lines = read_lines(path)
    for line in lines[1:]:
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        _, meaning, forms = parts
        englishes = clean_wold_meaning(meaning)
        for raw in _clean(forms).split(","):
            raw = raw.strip()
            if not raw or raw.startswith("-") or "…" in raw:
                continue
            word = single_token(hausa_plain(raw) if lang == "hau" else raw)
            if not word:
                continue
            for e in englishes:
                if word != e:
                    rows.append((word, e, 1, WOLD, ""))
    return rows


# --- NTREX -----------------------------------------------------------------------------------


def ntrex_rows(code: str, shared: Path | None = None, th: Thresholds = Thresholds()) -> list[Row]:
    """The confident entries of the language's NTREX-128 alignment (none without NTREX)."""
    from afroadv.build.alignment import english_profile, ntrex_alignment

    al = ntrex_alignment(code, shared)
    if al is None:
        return []
    words = word_classes(code)
    entries = confident_entries(al, english_profile(shared), set(words.function), set(words.names), set(words.number), th)
    return [(e.word, e.english, e.count, NTREX, e.pos) for e in entries]


def curated_ok(al, word: str, english: str, min_links: int = 3, min_share: float = 0.2) -> bool:
    """A dictionary entry running text does not contradict: the word is rare in the parallel text,
    or a fair share of its links go to the entry's English (by lemma)."""
    if al is None:
        return True
    links = al.x_links.get(word)
    if not links or sum(links.values()) < min_links:
        return True
    target = {lemma(w) for w in english.split()} | {english}
    hit = sum(c for e, c in links.items() if e in target or lemma(e) in target)
    return hit >= min_share * sum(links.values())


# --- merge, coverage, manifest ---------------------------------------------------------------


def merge(rows: Iterable[Row]) -> list[Row]:
    """One row per (word, english, origin), the highest weight kept; sorted for reproducibility."""
    best: dict[tuple[str, str, str], tuple[int, str]] = {}
    for w, e, c, o, pos in rows:
        k = (w, e, o)
        if k not in best or c > best[k][0]:
            best[k] = (c, pos)
    return sorted(((w, e, c, o, pos) for (w, e, o), (c, pos) in best.items()), key=lambda r: (r[0], r[3], -r[2], r[1]))


def semrel_test_tokens(code: str, shared_dir: Path | None) -> list[str] | None:
    """Word tokens (casefolded, letters and no digits) of the SemRel 2024 test text for `code`."""
    name = f"{code}_test_with_labels.csv"
    for d in [data_dir() / "sts" / "semrel2024"] + ([shared_dir / "semrel2024"] if shared_dir else []):
        path = d / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            rows = list(csv.DictReader(text.splitlines(keepends=True)))
            col = next(c for c in rows[0] if c.lower() == "text")
            return [t for r in rows for t in tokenize(r[col]) if is_lexical(t)]
    return None


def coverage(words: set[str], tokens: list[str]) -> dict:
    """Type coverage = share of distinct test word types in `words`; token coverage = share of tokens."""
    types = set(tokens)
    return {
        "types": len(types),
        "tokens": len(tokens),
        "type_coverage": round(len(types & words) / len(types), 4) if types else 0.0,
        "token_coverage": round(sum(t in words for t in tokens) / len(tokens), 4) if tokens else 0.0,
    }


def _licence(origins: set[str]) -> str:
    return "CC-BY-SA-4.0" if NTREX in origins else "CC-BY-4.0"


def language_rows(code: str, shared: Path) -> list[Row]:
    """Every entry of one language's lexicon, with the English part of speech filled in."""
    from afroadv.build.alignment import english_profile, ntrex_alignment

    lang = registry()[code]
    profile = english_profile(shared)
    words = word_classes(code)
    skip = words.function | words.number | words.names
    al = ntrex_alignment(code, shared)
    rows: list[Row] = ntrex_rows(code, shared)
    curated: list[Row] = []
    if code in GATITOS_CODES:
        curated += gatitos_rows(shared / "lexicon-sources" / "gatitos" / f"en_{GATITOS_CODES[code]}.tsv")
    if code in WOLD_FILES:
        curated += wold_rows(shared / "lexicon-sources" / "wold" / WOLD_FILES[code], code)
    if lang.variants:  # Kinyarwanda words spelled as in Kirundi: the Kirundi dictionary's meaning
        from afroadv.build.variants import vocabulary

        vocab = vocabulary(code, shared)
        for rel in lang.variants:
            if rel in GATITOS_CODES:
                rows_rel = gatitos_rows(shared / "lexicon-sources" / "gatitos" / f"en_{GATITOS_CODES[rel]}.tsv")
                curated += [(w, e, c, RELATED, pos) for w, e, c, _, pos in rows_rel if vocab[w] >= 2]
    single = one_meaning(curated)
    th = Thresholds()
    for w, e, c, o, _ in curated:
        if w in skip or e in FUNCTION_WORDS or not curated_ok(al, w, e):
            continue
        pos = english_pos(profile, e)
        if pos == "noun" and (w not in single or (al is not None and al.x_count[w] >= th.min_count
                                                    and al.collocation(w) >= th.max_collocation)):
            pos = "noun-ambiguous"  # kept for English→X (training), never code-switched into a sentence
        rows.append((w, e, c, o, pos))
    return merge(rows)


def english_pos(profile, english: str) -> str:
    """The part of speech of an English side (a phrase: noun when it is a noun phrase)."""
    return profile.pos(english) if english else "other"


def one_meaning(rows: list[Row]) -> set[str]:
    """Dictionary words with one meaning: all their English translations are one lemma or counter-
    fitted synonyms of one another (Swahili saa = hour, clock, watch is three; code-switching would
    pick one sense for every context)."""
    syn = _synonyms()
    by_word: dict[str, set[str]] = {}
    for w, e, *_ in rows:
        by_word.setdefault(w, set()).add(e)
    out = set()
    for w, es in by_word.items():
        es = sorted(es)
        first = {es[0], lemma(es[0])} | set(syn.get(es[0], ()))
        if all(e in first or lemma(e) in first or es[0] in syn.get(e, ()) for e in es[1:]):
            out.add(w)
    return out


def codeswitch_entries(rows: list[Row]) -> list[tuple[str, str, str]]:
    """(word, english, origin) code-switching uses: each word's first noun translation by weight."""
    seen, out = set(), []
    for w, e, c, o, pos in sorted(rows, key=lambda r: (r[0], -r[2], ORIGIN_ORDER.index(r[3]), r[1])):
        if pos == "noun" and w not in seen:
            seen.add(w)
            out.append((w, e, o))
    return out


ORIGIN_ORDER = [NTREX, GATITOS, RELATED, WOLD]
REFERENCES = {"hau": (WOLD, "wold"), "swa": (WOLD, "wold"), **{c: (GATITOS, "gatitos") for c in ("nso", "orm", "ssw", "tir", "tsn", "ven")}}
REVIEW_SAMPLE = 60
MIN_PRECISION = 0.85


def _synonyms() -> dict[str, list[str]]:
    return synonyms()


def switchable(code: str):
    """The codeswitch transformation's own test of a word (attached prepositions, case endings),
    plus the recipe's protection of apostrophe-joined words: entries it can never use are not measured."""
    from afroadv.perturb.codeswitch import CodeSwitch

    cs = CodeSwitch(registry()[code], min_lexicon_precision=0)
    return lambda word: cs.form_ok(word) and not any(c in APOSTROPHES for c in word)


def measure(code: str, rows: list[Row], shared: Path, review: dict) -> dict:
    """Precision@1 of the entries code-switching uses, per origin: against a held-out dictionary
    (strict, with synonyms, with misses adjudicated by review) and on the reviewed sample."""
    ok = switchable(code)
    used = [u for u in codeswitch_entries(rows) if ok(u[0])]
    out: dict = {}
    if code in REFERENCES:
        ref_origin, kind = REFERENCES[code]
        path = shared / "lexicon-sources" / (("wold/" + WOLD_FILES[code]) if kind == "wold" else f"gatitos/en_{GATITOS_CODES[code]}.tsv")
        ref = dictionary_reference(reference_rows(kind, path, code))
        for origin in sorted({o for _, _, o in used if o != ref_origin}, key=ORIGIN_ORDER.index):
            pairs = [(w, e) for w, e, o in used if o == origin]
            strict = precision_at_1(pairs, ref, kind)
            syn = precision_at_1(pairs, ref, kind, _synonyms())
            missed = [(w, e) for w, e in pairs if w in ref and not precision_at_1([(w, e)], ref, kind, _synonyms()).correct]
            judged = {p: review.get(p) for p in missed}
            rescued = sum(v == "yes" for v in judged.values())
            adjudicated = Precision(f"{kind}+review", syn.n, syn.correct + rescued)
            out[origin] = {"reference": strict.to_dict(), "reference_synonyms": syn.to_dict(),
                           "reference_adjudicated": adjudicated.to_dict() | {"misses_unjudged": sum(v is None for v in judged.values())}}
    sample = [u for u in review_sample(code, codeswitch_entries(rows)) if ok(u[0])]  # (a subset of a random sample is one)
    for origin in sorted({o for _, _, o in sample}, key=ORIGIN_ORDER.index):
        answers = [review.get((w, e)) for w, e, o in sample if o == origin]
        yes, no = answers.count("yes"), answers.count("no")
        p = Precision("review", yes + no, yes)
        out.setdefault(origin, {})["review"] = p.to_dict() | {"unsure": answers.count("unsure"), "unjudged": answers.count(None), "sample": len(answers)}
    return out


def review_sample(code: str, used: list[tuple[str, str, str]], n: int = REVIEW_SAMPLE) -> list[tuple[str, str, str]]:
    """A random sample of the code-switching entries, per origin: the n with the smallest hash of
    (language, origin, word, english). Stable as the lexicon changes: an entry leaves the sample only
    when it leaves the lexicon, so judgments already made stay useful."""
    import hashlib

    def rank(u):
        return hashlib.blake2b(f"lexicon-review|{code}|{u[2]}|{u[0]}|{u[1]}".encode("utf-8"), digest_size=8).digest()

    out = []
    for origin in ORIGIN_ORDER:
        out += sorted(sorted((u for u in used if u[2] == origin), key=rank)[:n])
    return out


def mark_rejected(rows: list[tuple], review: dict) -> list[tuple]:
    """Rows with the nouns reviewers rejected marked `rejected`: never used, but kept so the file
    says what was removed."""
    return [(w, e, c, o, "rejected" if pos == "noun" and review.get((w, e)) == "no" else pos) for w, e, c, o, pos in rows]


def read_review(code: str) -> dict[tuple[str, str], str]:
    """(word, english) -> yes | no | unsure, from data/lexicons/review/{code}.tsv (majority of reviewers)."""
    path = data_dir() / "lexicons" / "review" / f"{code}.tsv"
    if not path.exists():
        return {}
    votes: dict[tuple[str, str], list[str]] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t")))
        for col in header:
            if col.startswith("judgment") and row.get(col, "").strip():
                votes.setdefault((row["word"], row["english"]), []).append(row[col].strip().lower())
    out = {}
    for pair, vs in votes.items():
        yes, no = vs.count("yes"), vs.count("no")
        out[pair] = "yes" if yes > no else "no" if no > yes else "unsure"
    return out


def write_review_sheet(code: str, rows: list[Row], shared: Path, out: Path) -> Path:
    """The entries reviewers judge: the random sample and the reference misses, with any judgments
    already made kept (columns judgment, judgment2, ... one per reviewer)."""
    used = codeswitch_entries(rows)
    todo: dict[tuple[str, str], tuple[str, str]] = {(w, e): (o, "sample") for w, e, o in review_sample(code, used)}
    if code in REFERENCES:
        ref_origin, kind = REFERENCES[code]
        path = shared / "lexicon-sources" / (("wold/" + WOLD_FILES[code]) if kind == "wold" else f"gatitos/en_{GATITOS_CODES[code]}.tsv")
        ref = dictionary_reference(reference_rows(kind, path, code))
        for w, e, o in used:
            if o != ref_origin and w in ref and not precision_at_1([(w, e)], ref, kind, _synonyms()).correct:
                todo.setdefault((w, e), (o, f"reference-miss ({kind}: {', '.join(sorted(ref[w])[:4])})"))
    path = out / "review" / f"{code}.tsv"
    old: dict[tuple[str, str], dict] = {}
    header = ["word", "english", "origin", "why", "judgment"]
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t")
        for line in lines[1:]:
            row = dict(zip(header, line.split("\t")))
            old[(row["word"], row["english"])] = row
    for pair, row in old.items():  # judgments made for earlier samples stay (the reviewers' work)
        if pair not in todo and any(row.get(c, "").strip() for c in header[4:]):
            todo[pair] = (row.get("origin", ""), "earlier sample")
    body = []
    for (w, e), (o, why) in sorted(todo.items()):
        row = old.get((w, e), {})
        body.append("\t".join([w, e, o, why] + [row.get(c, "") for c in header[4:]]))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, "\t".join(header) + "\n" + "".join(b + "\n" for b in body))
    return path


def default_origins(precision: dict) -> tuple[list[str], str]:
    """The origins code-switching uses by default: those whose every measured figure (the reviewed
    sample, the adjudicated reference; at least 10 judgments each) is at least 85%. An origin never
    measured is not used. Returns (origins, why)."""
    used, notes = [], []
    for origin in sorted(precision, key=ORIGIN_ORDER.index):
        figures = [(k, v["precision"]) for k, v in precision[origin].items()
                   if k in ("review", "reference_adjudicated") and v.get("n", 0) >= 10 and v.get("precision") is not None]
        if not figures:
            notes.append(f"{origin}: not measured")
        elif min(p for _, p in figures) < MIN_PRECISION:
            k, p = min(figures, key=lambda f: f[1])
            notes.append(f"{origin}: precision@1 {p:.1%} ({k.replace('_', ' ')}) is under {MIN_PRECISION:.0%}")
        else:
            used.append(origin)
            notes.append(f"{origin}: precision@1 at least {min(p for _, p in figures):.1%}")
    return used, "; ".join(notes)


def build_all(shared_dir: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None) -> dict:
    """Build every lexicon file, the review sheets, MANIFEST.json and README.md in `out_dir`.

    Returns the manifest. Needs the shared source data (GATITOS, WOLD); a build without it would
    silently ship different files, so it refuses.
    """
    shared = Path(shared_dir) if shared_dir else shared_data_dir()
    if shared is None or not (shared / "lexicon-sources").is_dir():
        raise AfroadvError(
            "lexicon build needs the source data (../shared/data with lexicon-sources/ and ntrex128/); "
            "set AFROADV_SHARED_DATA or pass the folder. To build one lexicon from your own bitext use "
            "`afroadv lexicon induce`."
        )
    out = Path(out_dir) if out_dir else data_dir() / "lexicons"
    out.mkdir(parents=True, exist_ok=True)
    files = []
    t_start = time.perf_counter()
    for lang in sorted(registry().values(), key=lambda lg: lg.code):
        if not lang.lexicon:
            continue
        t0 = time.perf_counter()
        rows = language_rows(lang.code, shared)
        if not rows:
            continue
        write_review_sheet(lang.code, rows, shared, out)
        origins = sorted({r[3] for r in rows}, key=ORIGIN_ORDER.index)
        review = read_review(lang.code)
        precision = measure(lang.code, rows, shared, review)  # (before rejected entries go: an honest estimate)
        shipped = mark_rejected(rows, review)
        path = write_tsv(shipped, out / f"{lang.lexicon}-eng.tsv")
        load_lexicon.cache_clear()
        use, why = default_origins(precision)
        ok = switchable(lang.code)
        default_nouns = {w for w, _, o in codeswitch_entries(shipped) if o in use and ok(w)}
        entry = {
            "code": lang.lexicon,
            "language": lang.name,
            "file": path.name,
            "licence": _licence(set(origins)),
            "sources": [SOURCES[o] | {"origin": o} for o in origins],
            "entries": len(rows),
            "entries_by_origin": dict(sorted(Counter(r[3] for r in rows).items())),
            "rejected_by_review": sum(r[4] == "rejected" for r in shipped),
            "unique_words": len({r[0] for r in rows}),
            "codeswitch_entries": len(default_nouns),
            "precision": precision,
            "default_use": bool(use),
            "default_origins": use,
            "default_use_reason": why,
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
        }
        if lang.bitext.get("ntrex"):
            entry["ntrex_file"] = f"newstest2019-ref.{lang.bitext['ntrex']}.txt"
        if lang.code in COVERAGE_LANGS:
            toks = semrel_test_tokens(lang.code, shared)
            if toks:
                words = {r[0] for r in rows}
                cov = {"test_set": f"SemRel 2024 {lang.code} test", **coverage(words, toks)}
                cov["by_origin"] = {o: coverage({r[0] for r in rows if r[3] == o}, toks) for o in origins}
                cov["codeswitch"] = coverage(default_nouns, toks)
                for v in list(cov["by_origin"].values()) + [cov["codeswitch"]]:
                    del v["types"], v["tokens"]
                entry["coverage"] = cov
        entry["build_seconds"] = round(time.perf_counter() - t0, 2)
        files.append(entry)
    th = Thresholds()
    manifest = {
        "description": "X→English lexicons for code-switching (and English→X for codeswitch-aug training); built "
        "by `afroadv lexicon build` (afroadv.lexicons.build). Format: TSV word, english, weight, origin, pos "
        "(UTF-8, NFC, casefolded).",
        "induction": {
            "method": "IBM Model 1 + diagonal prior (fast_align-style), EM in numpy, both directions; entries kept "
            "only where the links agree (see afroadv.lexicons.induce)",
            "thresholds": {k: getattr(th, k) for k in th.__dataclass_fields__},
        },
        "precision_note": "precision@1 of the entries code-switching uses (each word's first noun translation): "
        "against a dictionary held apart from the induction (English by lemma; '+synonyms' also accepts a "
        "counter-fitted synonym; 'adjudicated' also accepts misses reviewers judged correct), and on a seeded "
        f"random sample of up to {REVIEW_SAMPLE} entries per origin judged by reviewers (review/*.tsv). "
        f"Code-switching uses by default only the origins whose reviewed sample and adjudicated reference (each with "
        f"at least 10 judgments) are both at least {MIN_PRECISION:.0%} (`default_origins`); the strict reference "
        "figures are lower where the dictionary lists another sense than the one the news text uses. "
        "A language with no such origin is not code-switched by default.",
        "coverage_note": "type coverage = share of distinct casefolded word types (letters, no digits) of the "
        "SemRel 2024 test text found as lexicon words; token coverage = share of running word tokens.",
        "files": files,
    }
    # timings vary run to run: keep them out of the file so the manifest is reproducible
    stable = json.loads(json.dumps(manifest))
    for f in stable["files"]:
        f.pop("build_seconds", None)
    write_text_atomic(out / "MANIFEST.json", json.dumps(stable, ensure_ascii=False, indent=2) + "\n")
    write_text_atomic(out / "README.md", render_readme(stable))
    manifest["build_seconds"] = round(time.perf_counter() - t_start, 2)
    return manifest


def _figure(v: dict | None) -> str:
    if not v or v.get("precision") is None:
        return "–"
    lo, hi = v["ci95"]
    return f"{100 * v['precision']:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}] (n={v['n']})"


def render_readme(manifest: dict) -> str:
    th = manifest["induction"]["thresholds"]
    lines = [
        "# Bilingual lexicons (X → English)",
        "",
        "`{code}-eng.tsv`: TSV with header `word, english, weight, origin, pos` (UTF-8, NFC, casefolded).",
        "`weight` is the alignment count for induced pairs and 1 for curated ones; `origin` names the",
        "source; `pos` is the English side's part of speech (`noun-ambiguous`: a dictionary word with",
        "several meanings, or bound in a fixed expression — kept for English→X augmentation, never",
        "code-switched into a sentence). Used by the `codeswitch` recipe (African noun → English noun)",
        "and `afroadv train --method codeswitch-aug` (English → African). Built by `afroadv lexicon",
        "build`; `MANIFEST.json` lists each file's sources, licence, size, sha256, precision and use.",
        "",
        "## How entries are chosen",
        "",
        "- **Induced from NTREX-128**: the 1997 newstest2019 sentences and their translations are",
        "  word-aligned (IBM Model 1 with a diagonal prior, EM in numpy, both directions; lexicons/induce.py).",
        f"  An entry x → e is kept only when the links agree: x and e linked in both directions at least",
        f"  {th['min_count']} times and in at least {th['min_agreement']:.0%} of their one-way links; e's lemma (with",
        f"  its counter-fitted synonyms) takes at least {th['min_share']:.0%} of x's links and the entropy of x's",
        f"  translations is at most {th['max_entropy']} bits; x is among e's main forms ({th['min_share_eng']:.0%}); x is not",
        f"  bound to one neighbour in {th['max_collocation']:.0%} of its uses (a piece of a fixed expression: 'yan sanda = police);",
        "  x is not a function word (the stop-word list, plus frequent words that link mostly to English",
        "  function words or to nothing, or to many words), a number word or a name (data/words), and",
        "  e is not an English function word, number, proper noun or fragment. One entry per word.",
        "- **Curated** (GATITOS, WOLD): entries whose word running text does not contradict (a word the",
        "  alignment sees linked elsewhere is dropped: Hausa inji is \"said\" in news, not \"machine\"), never",
        "  function, number or name words; a word with several meanings in the dictionary (Swahili saa:",
        "  hour, clock, watch) is `noun-ambiguous`. Hausa forms in running-text spelling only (no tone marks).",
        "- **Related language** (`gatitos-related`): Kirundi GATITOS entries for Kinyarwanda words spelled the",
        "  same and attested in Kinyarwanda text.",
        "",
        "## Precision@1 and default use",
        "",
        manifest["precision_note"],
        "",
        "Figures are precision@1 with a Wilson 95% interval and the number of judged entries. `ref`:",
        "against the held-out dictionary (WOLD for Hausa and Swahili, GATITOS where it covers the",
        "language), strict (English by lemma); `+syn`: a counter-fitted synonym also counts; `adj.`:",
        "misses a reviewer judged correct (the dictionary lists another sense) also count. `review`:",
        "a random sample judged yes / no / unsure by reviewers (model reviewers: Claude helper sessions",
        "asked for honest `unsure` where they do not know a word; unsure answers are excluded).",
        "",
        "| language | origin | ref | ref +syn | ref adj. | review | unsure | used by default |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in manifest["files"]:
        for origin, m in f["precision"].items():
            rv = m.get("review")
            lines.append(
                f"| {f['code']} | {origin} | {_figure(m.get('reference'))} | {_figure(m.get('reference_synonyms'))} | "
                f"{_figure(m.get('reference_adjudicated'))} | {_figure(rv)} | {rv['unsure'] if rv else '–'} | "
                f"{'yes' if origin in f['default_origins'] else 'no'} |"
            )
    lines += [
        "",
        "## Sources and licences",
        "",
        "- **NTREX-128** (CC BY-SA 4.0), origin `ntrex-induced`: the induced lists are adaptations of",
        "  NTREX-128 and are distributed under CC BY-SA 4.0; so is every file that contains them.",
        f"  {SOURCES[NTREX]['citation']} {SOURCES[NTREX]['url']}",
        "- **GATITOS** (CC BY 4.0), origin `gatitos` / `gatitos-related`: one-token entries for Kirundi (rn),",
        "  Darija (ar-MA), Oromo (om), Tigrinya (ti), Northern Sotho (nso), Tswana (tn), Venda (ve), Swati (ss).",
        f"  {SOURCES[GATITOS]['citation']} {SOURCES[GATITOS]['url']}",
        "- **WOLD** (CC BY 4.0), origin `wold`: Swahili and Hausa meaning lists (Swahili verb stems",
        "  skipped; Hausa forms without tone marks and doubled long vowels, the spelling of running text).",
        f"  {SOURCES[WOLD]['citation']}",
        "",
        "Files holding only GATITOS entries (`run`, `ary`) are CC BY 4.0; all others CC BY-SA 4.0.",
        "Changes made: normalised to NFC, casefolded, translator notes in parentheses removed,",
        "multi-word X forms dropped, entries filtered and merged as above.",
        "",
        "## Files",
        "",
        "| file | licence | entries | unique words | nouns code-switching uses by default | origins |",
        "|---|---|---:|---:|---:|---|",
    ]
    for f in manifest["files"]:
        origins = ", ".join(f"{o} {n}" for o, n in f["entries_by_origin"].items())
        lines.append(f"| {f['file']} | {f['licence']} | {f['entries']} | {f['unique_words']} | {f['codeswitch_entries']} | {origins} |")
    lines += [
        "",
        "## Coverage of the SemRel 2024 test text",
        "",
        manifest["coverage_note"],
        "",
        "| language | types | tokens | type coverage | token coverage | nouns code-switched by default (type / token) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in manifest["files"]:
        c = f.get("coverage")
        if not c:
            continue
        n = c.get("codeswitch", {})
        nt = f"{n['type_coverage']:.1%} / {n['token_coverage']:.1%}" if n else "–"
        lines.append(
            f"| {f['code']} | {c['types']} | {c['tokens']} | {c['type_coverage']:.1%} | {c['token_coverage']:.1%} | {nt} |"
        )
    lines += [
        "",
        "Induced entries come from news text and cover its frequent nouns; code-switching a noun picks",
        "its one translation for every context, so a word whose sense varies can still be switched into",
        "the wrong sense — see the review rates of generated sets in the project README.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - convenience for `python -m afroadv.lexicons.build`
    m = build_all()
    for f in m["files"]:
        cov = f.get("coverage")
        extra = f" type {cov['type_coverage']:.1%} token {cov['token_coverage']:.1%}" if cov else ""
        print(f"{f['file']}: {f['entries']} rows, {f['unique_words']} words ({f['build_seconds']} s){extra}")
    print(f"total {m['build_seconds']} s")


if __name__ == "__main__":  # pragma: no cover
    main()
