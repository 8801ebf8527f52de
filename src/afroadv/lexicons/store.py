"""Load `data/lexicons/{code}-eng.tsv` files: word → English translations, and same-language variants.

File format (UTF-8, NFC, header row): word, english, weight, origin. `word` and `english` are
casefolded; `weight` ranks translations of one word (alignment count or 1 for curated entries);
`origin` names the source (gatitos, wold, ntrex-induced ...).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from afroadv.resources import data_dir


def lexicon_path(code: str) -> Path:
    return data_dir() / "lexicons" / f"{code}-eng.tsv"


@dataclass
class Lexicon:
    code: str
    to_english: dict[str, list[str]] = field(default_factory=dict)
    from_english: dict[str, list[str]] = field(default_factory=dict)
    version: str = "none"

    def __len__(self) -> int:
        return len(self.to_english)

    def translations(self, word: str) -> list[str]:
        return self.to_english.get(word.casefold(), [])

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
    rows.sort(key=lambda r: (-float(r["weight"]), r["word"], r["english"]))
    to_en: dict[str, list[str]] = {}
    from_en: dict[str, list[str]] = {}
    for r in rows:
        w, e = r["word"], r["english"]
        if not w or not e:
            continue
        if e not in to_en.setdefault(w, []):
            to_en[w].append(e)
        if w not in from_en.setdefault(e, []):
            from_en[e].append(w)
    version = f"{code}-eng@{hashlib.sha256(raw).hexdigest()[:12]}"
    return Lexicon(code=code, to_english=to_en, from_english=from_en, version=version)


@lru_cache(maxsize=None)
def lexicon_coverage() -> dict[str, dict]:
    """Measured coverage per lexicon code, from data/lexicons/MANIFEST.json (written by the build)."""
    import json

    path = data_dir() / "lexicons" / "MANIFEST.json"
    if not path.exists():
        return {}
    files = json.loads(path.read_text(encoding="utf-8")).get("files", [])
    return {f["code"]: f["coverage"] for f in files if f.get("coverage")}
