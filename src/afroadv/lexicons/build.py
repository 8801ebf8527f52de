"""Build the shipped lexicons `data/lexicons/{code}-eng.tsv`, their MANIFEST.json and README.md.

A maintainer tool: it reads the source data in `../shared/data` (NTREX-128, GATITOS, WOLD), which
a user's clone does not have. Every language in languages.yaml with a `lexicon:` code gets a file:
- induced from NTREX-128 (`bitext: {ntrex: FILECODE}`) by `afroadv.lexicons.induce`;
- merged with GATITOS (CC BY 4.0) and WOLD (CC BY 4.0) entries where those cover the language.
Only X-side entries that are one token of the project tokenizer are kept: perturbers look words
up one token at a time, so a multi-word X form could never match. The English side may be
multi-word (code-switching "dust" or "to the left" reads the same).

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
from afroadv.lexicons.induce import induce_lexicon, is_lexical, tokenize, write_tsv
from afroadv.resources import data_dir, sha256_file, shared_data_dir

Row = tuple[str, str, int, str]  # word, english, weight, origin

NTREX = "ntrex-induced"
GATITOS = "gatitos"
WOLD = "wold"

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
                rows.append((word, english, 1, GATITOS))
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
    never be looked up. Hausa forms are kept as written and also in plain spelling (hausa_plain).
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
            variants = [raw]
            if lang == "hau":
                variants.append(hausa_plain(raw))
            for v in variants:
                word = single_token(v)
                if not word:
                    continue
                for e in englishes:
                    if word != e:
                        rows.append((word, e, 1, WOLD))
    return rows


# --- NTREX -----------------------------------------------------------------------------------


def _ntrex_dir(shared_dir: Path | None) -> Path | None:
    for c in ([shared_dir / "ntrex128"] if shared_dir else []) + [data_dir() / "bitext" / "ntrex128"]:
        if (c / "newstest2019-src.eng.txt").exists():
            return c
    return None


def ntrex_rows(ntrex_dir: Path, filecode: str, src_stopwords: Iterable[str], min_count: int = 3) -> list[Row]:
    x = read_lines(ntrex_dir / f"newstest2019-ref.{filecode}.txt")
    e = read_lines(ntrex_dir / "newstest2019-src.eng.txt")
    return [(w, en, c, NTREX) for w, en, c in induce_lexicon(x, e, min_count=min_count, src_stopwords=src_stopwords)]


# --- merge, coverage, manifest ---------------------------------------------------------------


def merge(rows: Iterable[Row]) -> list[Row]:
    """One row per (word, english, origin), the highest weight kept; sorted for reproducibility."""
    best: dict[tuple[str, str, str], int] = {}
    for w, e, c, o in rows:
        k = (w, e, o)
        best[k] = max(best.get(k, 0), c)
    return sorted(((w, e, c, o) for (w, e, o), c in best.items()), key=lambda r: (r[0], r[3], -r[2], r[1]))


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


def build_all(shared_dir: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None, min_count: int = 3) -> dict:
    """Build every lexicon file, MANIFEST.json and README.md in `out_dir` (default data/lexicons).

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
    ntrex_dir = _ntrex_dir(shared)
    files = []
    t_start = time.perf_counter()
    for lang in sorted(registry().values(), key=lambda lg: lg.code):
        if not lang.lexicon:
            continue
        t0 = time.perf_counter()
        rows: list[Row] = []
        filecode = lang.bitext.get("ntrex")
        if filecode:
            if ntrex_dir is None:
                raise AfroadvError(f"{lang.code}: NTREX-128 files not found under {shared}/ntrex128")
            rows += ntrex_rows(ntrex_dir, filecode, lang.stopword_set(), min_count=min_count)
        if lang.code in GATITOS_CODES:
            rows += gatitos_rows(shared / "lexicon-sources" / "gatitos" / f"en_{GATITOS_CODES[lang.code]}.tsv")
        if lang.code in WOLD_FILES:
            rows += wold_rows(shared / "lexicon-sources" / "wold" / WOLD_FILES[lang.code], lang.code)
        rows = merge(rows)
        if not rows:
            continue
        path = write_tsv(rows, out / f"{lang.lexicon}-eng.tsv")
        origins = sorted({r[3] for r in rows}, key=list(SOURCES).index)
        entry = {
            "code": lang.lexicon,
            "language": lang.name,
            "file": path.name,
            "licence": _licence(set(origins)),
            "sources": [SOURCES[o] | {"origin": o} for o in origins],
            "entries": len(rows),
            "entries_by_origin": dict(sorted(Counter(r[3] for r in rows).items())),
            "unique_words": len({r[0] for r in rows}),
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
        }
        if filecode:
            entry["ntrex_file"] = f"newstest2019-ref.{filecode}.txt"
        if lang.code in COVERAGE_LANGS:
            toks = semrel_test_tokens(lang.code, shared)
            if toks:
                words = {r[0] for r in rows}
                cov = {"test_set": f"SemRel 2024 {lang.code} test", **coverage(words, toks)}
                cov["by_origin"] = {o: coverage({r[0] for r in rows if r[3] == o}, toks) for o in origins}
                for v in cov["by_origin"].values():
                    del v["types"], v["tokens"]
                entry["coverage"] = cov
        entry["build_seconds"] = round(time.perf_counter() - t0, 2)
        files.append(entry)
    manifest = {
        "description": "X→English lexicons for the codeswitch and lexsub recipes; built by `afroadv lexicon build` "
        "(afroadv.lexicons.build). Format: TSV word, english, weight, origin (UTF-8, NFC, casefolded).",
        "induction": {
            "method": "IBM Model 1 + diagonal prior (fast_align-style), EM in numpy, both directions, intersection",
            "min_count": min_count,
            "rel_top": 0.5,
            "rel_top_eng": 0.2,
        },
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


def render_readme(manifest: dict) -> str:
    lines = [
        "# Bilingual lexicons (X → English)",
        "",
        "`{code}-eng.tsv`: TSV with header `word, english, weight, origin` (UTF-8, NFC, casefolded).",
        "`weight` is the alignment count for induced pairs and 1 for curated ones; `origin` names the",
        "source. Used by the `codeswitch` (X word → English) and `lexsub` (X words sharing a",
        "translation) recipes. Built by `afroadv lexicon build`; `MANIFEST.json` lists each file's",
        "sources, licence, size and sha256.",
        "",
        "## Sources and licences",
        "",
        "- **NTREX-128** (CC BY-SA 4.0): the 1997 newstest2019 sentences and their translations were",
        "  word-aligned (IBM Model 1 with a diagonal prior, both directions, intersection; pairs seen",
        "  at least twice and near the top in both directions; English function words, numbers and",
        "  identical strings dropped). The induced lists are adaptations of NTREX-128 and are",
        "  distributed under CC BY-SA 4.0; so is every file that contains them (origin `ntrex-induced`).",
        f"  {SOURCES[NTREX]['citation']} {SOURCES[NTREX]['url']}",
        "- **GATITOS** (CC BY 4.0), origin `gatitos`: one-token entries for Kirundi (rn), Darija (ar-MA),",
        "  Oromo (om), Tigrinya (ti), Northern Sotho (nso), Tswana (tn), Venda (ve), Swati (ss).",
        f"  {SOURCES[GATITOS]['citation']} {SOURCES[GATITOS]['url']}",
        "- **WOLD** (CC BY 4.0), origin `wold`: Swahili and Hausa meaning lists (Swahili verb stems",
        "  skipped; Hausa forms kept as written and also without tone marks and doubled long vowels,",
        "  the spelling of running text).",
        f"  {SOURCES[WOLD]['citation']}",
        "",
        "Files holding only GATITOS entries (`run`, `ary`) are CC BY 4.0; all others CC BY-SA 4.0.",
        "Changes made: normalised to NFC, casefolded, translator notes in parentheses removed,",
        "multi-word X forms dropped, entries merged.",
        "",
        "## Files",
        "",
        "| file | licence | entries | unique words | origins |",
        "|---|---|---:|---:|---|",
    ]
    for f in manifest["files"]:
        origins = ", ".join(f"{o} {n}" for o, n in f["entries_by_origin"].items())
        lines.append(f"| {f['file']} | {f['licence']} | {f['entries']} | {f['unique_words']} | {origins} |")
    lines += [
        "",
        "## Coverage of the SemRel 2024 test text",
        "",
        manifest["coverage_note"],
        "",
        "| language | types | tokens | type coverage | token coverage | NTREX-induced only (type / token) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in manifest["files"]:
        c = f.get("coverage")
        if not c:
            continue
        n = c["by_origin"].get(NTREX, {})
        nt = f"{n['type_coverage']:.1%} / {n['token_coverage']:.1%}" if n else "–"
        lines.append(
            f"| {f['code']} | {c['types']} | {c['tokens']} | {c['type_coverage']:.1%} | {c['token_coverage']:.1%} | {nt} |"
        )
    lines += [
        "",
        "Induced pairs come from news text: they cover frequent words and news vocabulary, and a",
        "share of them are alignment errors or inflected forms. Treat them as noisy substitutes,",
        "not a dictionary.",
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
