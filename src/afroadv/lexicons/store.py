"""Load `data/lexicons/{code}-eng.tsv` files: word → English translations, and same-language variants.

File format (UTF-8, NFC, header row): word, english, weight, origin[, pos]. `word` and `english`
are casefolded; `weight` ranks translations of one word (alignment count or 1 for curated entries);
`origin` names the source (gatitos, wold, ntrex-induced ...); `pos` is the English side's part of
speech (noun, verb, adj, adv, other; empty when unknown).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from afroadv.resources import data_dir


_ORIGINS = {"ntrex-induced": 0, "gatitos": 1, "gatitos-related": 2, "wold": 3}  # among equal weights: induced first


def lexicon_path(code: str) -> Path:
    return data_dir() / "lexicons" / f"{code}-eng.tsv"


@dataclass
class Lexicon:
    code: str
    to_english: dict[str, list[str]] = field(default_factory=dict)
    from_english: dict[str, list[str]] = field(default_factory=dict)
    version: str = "none"
    nouns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # word -> (English noun, origin), best first

    def __len__(self) -> int:
        return len(self.to_english)

    def translations(self, word: str) -> list[str]:
        return self.to_english.get(word.casefold(), [])

    def noun_translations(self, word: str, origins: frozenset[str] | None = None) -> list[str]:
        """The word's English noun translations, best first; only from `origins` when given."""
        return [e for e, o in self.nouns.get(word.casefold(), ()) if origins is None or o in origins]

    def translate_english(self, english: str) -> list[str]:
        return self.from_english.get(english.casefold(), [])


@lru_cache(maxsize=None)
def load_lexicon(code: str | None) -> Lexicon:
    """The lexicon for `code`; an empty one (version 'none') when none ships."""
    if not code:
        return Lexicon(code="")
    path = lexicon_path(code)
    if not path.exists():
        return Lexicon(code=code)
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    rows.sort(key=lambda r: (-float(r["weight"]), _ORIGINS.get(r.get("origin"), 9), r["word"], r["english"]))
    to_en: dict[str, list[str]] = {}
    from_en: dict[str, list[str]] = {}
    nouns: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        w, e = r["word"], r["english"]
        if not w or not e or r.get("pos") == "rejected":  # (reviewers found it wrong: never used)
            continue
        if e not in to_en.setdefault(w, []):
            to_en[w].append(e)
        if w not in from_en.setdefault(e, []):
            from_en[e].append(w)
        if r.get("pos") == "noun" and e not in [x for x, _ in nouns.setdefault(w, [])]:
            nouns[w].append((e, r.get("origin", "")))
    version = f"{code}-eng@{hashlib.sha256(raw).hexdigest()[:12]}"
    return Lexicon(code=code, to_english=to_en, from_english=from_en, version=version,
                   nouns={w: v for w, v in nouns.items() if v})


@lru_cache(maxsize=None)
def lexicon_quality() -> dict[str, dict]:
    """Per lexicon code: precision figures and whether code-switching uses it by default
    (data/lexicons/MANIFEST.json, written by the build)."""
    import json

    path = data_dir() / "lexicons" / "MANIFEST.json"
    if not path.exists():
        return {}
    files = json.loads(path.read_text(encoding="utf-8")).get("files", [])
    return {f["code"]: {"default_use": f.get("default_use", False), "origins": f.get("default_origins", []),
                        "reason": f.get("default_use_reason", ""), "precision": f.get("precision", {})}
            for f in files}  # fmt: skip


@lru_cache(maxsize=None)
def lexicon_coverage() -> dict[str, dict]:
    """Measured coverage per lexicon code, from data/lexicons/MANIFEST.json (written by the build)."""
    import json

    path = data_dir() / "lexicons" / "MANIFEST.json"
    if not path.exists():
        return {}
    files = json.loads(path.read_text(encoding="utf-8")).get("files", [])
    return {f["code"]: f["coverage"] for f in files if f.get("coverage")}
