"""Build data/words/{code}.tsv: a language's function, number, name and common words (afroadv.words).

- function: the shipped stop-word list, plus frequent words the NTREX-128 alignment links mostly
  to English function words or to nothing, or to many different words (lexicons/induce.py);
- number: the reviewed number words of data/numbers/{code}.yaml (stems × agreement prefixes
  multiplied out);
- name: words and word sequences the alignment links to English proper nouns; words written with a
  capital inside sentences at least 80% of the time in the corpora; the reviewed gazetteer
  (data/names/gazetteer.tsv) — a one-word gazetteer name noted as "also a common word" only
  inside its multi-word names;
- common: words written in lower case at least twice in the corpora, and in scripts without case
  every word seen twice (a capitalised word at a sentence start is rewritable only if it is one of
  these; a typo that spells one of these is redrawn).

The SemRel 2024 training text is not used (its licence is unstated and the list ships).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from afroadv.build.alignment import english_profile, ntrex_alignment
from afroadv.build.corpora import sources
from afroadv.build.output import out_folder, write_build_manifest, write_language_file
from afroadv.langs import registry
from afroadv.lexicons.english import FUNCTION_WORDS
from afroadv.lexicons.induce import Thresholds, learn_function_words, learn_names
from afroadv.resources import data_dir
from afroadv.text import ends_sentence, nfc, split_tokens
from afroadv.words import gazetteer, uncased

SHIPPED_SOURCES = ("ntrex128", "afrisenti-dev", "bible-nt", "tatoeba")


def number_words(code: str) -> set[str]:
    path = data_dir() / "numbers" / f"{code}.yaml"
    if not path.exists():
        return set()
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = {nfc(str(w)).casefold() for w in spec.get("words") or []}
    forms = spec.get("forms") or {}
    out |= {nfc(str(p) + str(s)).casefold() for p in forms.get("prefixes") or [] for s in forms.get("stems") or []}
    return out


def corpus_words(code: str, shared: Path | None = None) -> tuple[Counter, Counter, Counter]:
    """(lower-case uses, capitalised uses inside sentences, all uses) of each word (casefolded)."""
    low, cap_in, total = Counter(), Counter(), Counter()
    for src in sources(code, shared):
        if src.name not in SHIPPED_SOURCES:
            continue
        for text in src.sentences:
            parts = split_tokens(nfc(text))
            initial = True
            for i in range(1, len(parts), 2):
                initial = initial or ends_sentence(parts[i - 1])
                w = parts[i]
                k = w.casefold()
                total[k] += 1
                if w[:1].islower():
                    low[k] += 1
                elif w[:1].isupper() and not initial and not (len(w) > 1 and w.isupper()):
                    cap_in[k] += 1
                initial = False
    return low, cap_in, total


def classes_for(code: str, shared: Path | None = None) -> dict[str, dict[str, str]]:
    """class -> {word: source}."""
    lang = registry()[code]
    out: dict[str, dict[str, str]] = {"function": {}, "number": {}, "name": {}, "common": {}}
    latin: dict[str, str] = {}  # uncased-script name -> its usual Latin spelling (English side, gazetteer)
    stop = FUNCTION_WORDS if code == "eng" else lang.stopword_set()  # (English stopwords-iso holds content words)
    for w in sorted(stop):
        out["function"][w] = "stopwords"
    low, cap_in, total = corpus_words(code, shared)
    al = ntrex_alignment(code, shared)
    if al is not None:
        for w in sorted(learn_function_words(al, Thresholds())):
            out["function"].setdefault(w, "aligned")
        cased = lang.script == "Latin"
        for w, english in sorted(learn_names(al, english_profile(shared)).items()):
            # in a cased script the corpora must agree: the word is mostly written with a capital
            if not cased or " " in w or cap_in[w] >= 0.5 * max(total[w], 1):
                out["name"].setdefault(w, "aligned")
                if english and not cased:
                    latin[w] = english
    for w in sorted(number_words(code)):
        out["number"][w] = "reviewed"
    for w, c in sorted(cap_in.items()):
        if c >= 2 and c >= 0.8 * total[w]:
            out["name"].setdefault(w, "capitalised")
    names, common_names = gazetteer(code)
    for w, english in sorted(names.items()):
        out["name"][w] = "gazetteer"
        english = english.replace("|", "/").split("/")[0].strip()  # (the first of "America / USA")
        if english and not lang.script == "Latin" and " " not in w:
            latin[w] = english.casefold()
    for w in common_names:
        out["name"].pop(w, None)  # a name that is also a common word is protected only in its multi-word names
    for w, c in sorted(low.items()):
        if c >= 2:
            out["common"][w] = "corpus"
    for w, c in sorted(total.items()):  # scripts without case: every frequent word is a known word
        if c >= 2 and uncased(w):
            out["common"].setdefault(w, "corpus")
    for cls in ("function", "number"):
        for w in out[cls]:
            out["name"].pop(w, None)
    out["latin"] = {w: e for w, e in latin.items() if w in out["name"]}
    return out


def render(classes: dict[str, dict[str, str]]) -> str:
    rows = ["word\tclass\tsource\tlatin\n"]
    for cls in ("function", "number", "name", "common"):
        for w, src in sorted(classes[cls].items()):
            rows.append(f"{w}\t{cls}\t{src}\t{classes['latin'].get(w, '') if cls == 'name' else ''}\n")
    return "".join(rows)


def build_words(shared: Path | None = None, out_dir: Path | None = None) -> dict:
    out = out_folder("words", out_dir)
    files = []
    for code in sorted(registry()):
        classes = classes_for(code, shared)
        if not any(v for c, v in classes.items() if c != "latin"):
            continue
        path, sha = write_language_file(out, code, render(classes))
        files.append({"code": code, "file": path.name, "sha256": sha,
                      "counts": {c: len(v) for c, v in classes.items() if c != "latin"},
                      "latin_spellings": len(classes["latin"]),
                      "by_source": {c: dict(sorted(Counter(v.values()).items())) for c, v in classes.items() if c != "latin"}})
    return write_build_manifest(
        out,
        "Function, number, name and common words per language (afroadv.words). Built by "
        "`python -m afroadv.build words` from NTREX-128 word alignments (CC BY-SA 4.0), the AfriSenti, "
        "Bible and Tatoeba corpora, the stop-word lists in data/stopwords, the reviewed number lists in "
        "data/numbers and the reviewed gazetteer in data/names. Licence: CC BY-SA 4.0 (NTREX-128 derived).",
        files,
    )
