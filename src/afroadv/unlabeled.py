"""Unlabeled African-language text for consistency training, and the guard that keeps evaluation
text out of it.

Zero-shot transfer forbids target-language labels, not target-language text; but a sentence a
model was trained on must never be one it is later scored on. So every source is checked against
every SemRel test/dev sentence found here and against each training language's default evaluation
set: an explicitly given source that shares a sentence with one is refused (naming both); a
default source that does is skipped, and the card says so. Overlap with the other catalogue sets
(tweets, news, tatoeba ...) is recorded, so the card can say which sets that model must not be
judged on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.resources import sha256_file
from afroadv.text import nfc

# catalogue sources: afroadv dataset ids whose African-language side is running text
CATALOGUE = {"ntrex": "news", "news": "news", "tweets": "tweets", "tatoeba": "tatoeba", "bible": "bible"}
DEFAULT_SOURCES = ("ntrex", "tweets", "tatoeba", "bible")
_WORD = re.compile(r"\w+")


def match_key(text: str) -> str:
    """What two sentences must share to count as the same sentence: NFC, case-folded words."""
    return " ".join(_WORD.findall(nfc(text).casefold()))


@dataclass(frozen=True)
class Source:
    name: str  # "ntrex:hau", or the file path as given
    lang: str
    files: tuple[Path, ...]
    sentences: tuple[str, ...]  # NFC, stripped, unique, in file order
    default: bool = False  # came from DEFAULT_SOURCES (skipped, not refused, when it overlaps)

    def describe(self) -> dict:
        return {"name": self.name, "lang": self.lang, "sentences": len(self.sentences),
                "files": [{"path": _shown(p), "sha256": sha256_file(p)} for p in self.files]}


def _shown(p: Path) -> str:
    """A shipped file by its place under data/ (machine-independent), any other by its path."""
    from afroadv.resources import data_dir

    try:
        return "data/" + p.resolve().relative_to(data_dir().resolve()).as_posix()
    except ValueError:
        return str(p)


def _unique(texts) -> tuple[str, ...]:
    seen, out = set(), []
    for t in texts:
        t = nfc(t.strip())
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return tuple(out)


def _catalogue_source(name: str, lang, *, default: bool) -> Source | None:
    from afroadv.data.catalog import available_datasets, load_dataset

    dataset = CATALOGUE[name]
    if dataset not in available_datasets(lang):
        return None
    ds = load_dataset(lang, dataset)
    return Source(f"{name}:{lang.code}", lang.code, ds.files[:1], _unique(ds.own_texts()), default)


def read_sentence_file(path: Path) -> list[str]:
    """One sentence per line (a .tsv: its text / tweet / sentence column)."""
    from afroadv.data.readers import read_invariance

    return [p.sentence2 for p in read_invariance(path, "und", "unlabeled")]


def resolve_sources(spec: tuple[str, ...] | None, langs: tuple[str, ...]) -> list[Source]:
    """`spec`: catalogue ids (ntrex, tweets, tatoeba, bible: each for every --langs language that has
    it), `LANG:PATH` or `PATH` (a file; PATH alone needs exactly one --langs). None: the defaults."""
    from afroadv.langs import get_language

    if not langs:
        raise AfroadvError("--method consistency needs --langs (the languages of the unlabeled text)")
    languages = [get_language(c) for c in langs]
    default = spec is None
    out: list[Source] = []
    for item in (DEFAULT_SOURCES if default else spec):
        item = str(item).strip()
        if not item:
            raise AfroadvError("--unlabeled: empty source name")
        if item.lower() in CATALOGUE:
            found = [s for lang in languages if (s := _catalogue_source(item.lower(), lang, default=default))]
            if not found and not default:
                raise AfroadvError(f"--unlabeled {item}: no {item} text ships for {', '.join(langs)}")
            out.extend(found)
            continue
        code, sep, rest = item.partition(":")
        if sep and len(code) in (2, 3) and code.isalpha():
            lang, path = get_language(code), Path(rest).expanduser()
        elif len(languages) == 1:
            lang, path = languages[0], Path(item).expanduser()
        else:
            raise AfroadvError(f"--unlabeled {item}: say its language as LANG:PATH (several --langs given)")
        if lang.code not in [x.code for x in languages]:
            raise AfroadvError(f"--unlabeled {item}: {lang.code} is not among --langs {','.join(langs)}")
        if not path.is_file():
            raise AfroadvError(f"--unlabeled: {path} is not a file (use ntrex, tweets, tatoeba, bible or a file of sentences)")
        out.append(Source(item, lang.code, (path,), _unique(read_sentence_file(path))))
    missing = [c.code for c in languages if not any(s.lang == c.code for s in out)]
    if missing:
        raise AfroadvError(f"no unlabeled text for {', '.join(missing)}: pass --unlabeled LANG:PATH")
    return out


# ----------------------------------------------------------------------------- overlap guard


def protected_sets(langs: tuple[str, ...]) -> dict[str, set[str]]:
    """{set name: match keys} of what training text must never contain: every SemRel test and dev
    split found here (shipped or ../shared), and each training language's default evaluation set."""
    from afroadv.data.catalog import default_dataset, load_dataset
    from afroadv.langs import get_language, registry

    out: dict[str, set[str]] = {}
    for lang in registry().values():
        if not lang.sts:
            continue
        for split in ("test", "dev"):
            try:
                ds = load_dataset(lang, "semrel", split)
            except AfroadvError:
                continue  # this split is not on this machine
            out[f"semrel-{split}:{lang.code}"] = {k for t in ds.own_texts() if (k := match_key(t))}
    for code in langs:
        lang = get_language(code)
        name = default_dataset(lang)
        if name and name != "semrel":
            out[f"{name}:{lang.code} (default evaluation set)"] = {
                k for t in load_dataset(lang, name).own_texts() if (k := match_key(t))}
    return out


def other_sets(langs: tuple[str, ...]) -> dict[str, set[str]]:
    """{set name: match keys} of the catalogue sets a training language can be evaluated on beyond its
    default (their overlap is recorded, not refused)."""
    from afroadv.data.catalog import available_datasets, default_dataset, load_dataset
    from afroadv.langs import get_language

    out: dict[str, set[str]] = {}
    for code in langs:
        lang = get_language(code)
        for name in available_datasets(lang):
            if name in ("semrel", default_dataset(lang)):
                continue
            out[f"{name}:{lang.code}"] = {k for t in load_dataset(lang, name).own_texts() if (k := match_key(t))}
    return out


def check_overlap(sources: list[Source], langs: tuple[str, ...]) -> tuple[list[Source], dict]:
    """Refuse an explicit source that shares a sentence with a protected set; skip a default one.
    Returns the sources kept and the record for the card."""
    guard = protected_sets(langs)
    others = other_sets(langs)
    kept, skipped, record = [], [], []
    for src in sources:
        keys = {match_key(s) for s in src.sentences} - {""}
        hits = {name: len(keys & ks) for name, ks in guard.items() if keys & ks}
        if hits and not src.default:
            where = ", ".join(f"{n} ({c} sentence{'s' * (c != 1)})" for n, c in hits.items())
            example = next(s for s in src.sentences if any(match_key(s) in guard[n] for n in hits))
            raise AfroadvError(f"--unlabeled {src.name} contains evaluation text: {where}; e.g. {example[:80]!r}. "
                               "Remove those sentences (evaluation text is never training text)")
        if hits:
            skipped.append({"source": src.name, "overlaps": hits})
            continue
        kept.append(src)
        seen = {name: len(keys & ks) for name, ks in others.items() if keys & ks}
        record.append({"source": src.name, "evaluation_overlap": 0, "catalogue_overlap": seen})
    contaminated = sorted({n for r in record for n in r["catalogue_overlap"]})
    return kept, {
        "checked_against": sorted(guard),
        "sentences_checked": sum(len(s.sentences) for s in sources),
        "evaluation_overlap": 0,
        "skipped_default_sources": skipped,
        "sources": record,
        "do_not_evaluate_on": contaminated,
        "rule": "exact match after NFC + case-folding + keeping only word characters",
    }


__all__ = ["CATALOGUE", "DEFAULT_SOURCES", "Source", "check_overlap", "match_key", "protected_sets",
           "read_sentence_file", "resolve_sources"]
