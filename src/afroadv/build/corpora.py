"""Running text per language from the source corpora, for learning resources (letters, function
words, names, variants). Never the SemRel 2024 test or dev text: that is what afroadv evaluates on.

Each source is (name, licence, sentences). Sources: NTREX-128 (news), SemRel 2024 train, AfriSenti
dev tweets, the Bible New Testament, Tatoeba — whichever exist for the language.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from afroadv.data.readers import read_lines, read_text
from afroadv.errors import AfroadvError
from afroadv.langs import get_language
from afroadv.resources import shared_data_dir

AFRISENTI = {"amh", "hau", "ibo", "kin", "swa", "yor"}
BIBLE = {"swa": "Swahili-NT", "zul": "Zulu-NT"}
TATOEBA = {"afr": "afr", "amh": "amh", "swa": "swh", "xho": "xho"}
SEMREL_TRAIN = {"amh", "hau", "kin"}


@dataclass(frozen=True)
class Source:
    name: str
    licence: str
    sentences: tuple[str, ...]
    informal: bool = False  # typed by ordinary users (tweets), not edited text


def shared_root(shared: Path | None = None) -> Path:
    root = Path(shared) if shared else shared_data_dir()
    if root is None or not root.is_dir():
        raise AfroadvError("this build needs the source corpora (../shared/data); set AFROADV_SHARED_DATA")
    return root


def _semrel_train(path: Path) -> list[str]:
    out = []
    for row in csv.DictReader(read_text(path).splitlines(keepends=True)):
        text = row.get("Text") or row.get("text") or ""
        out.extend(s for s in text.replace("\t", "\n").split("\n") if s.strip())
    return out


@lru_cache(maxsize=None)
def sources(code: str, shared: Path | None = None) -> tuple[Source, ...]:
    """Every non-evaluation corpus of a language, in a fixed order."""
    root = shared_root(shared)
    lang = get_language(code)
    out: list[Source] = []
    ntrex = lang.bitext.get("ntrex")
    if code == "eng":
        out.append(Source("ntrex128", "CC-BY-SA-4.0", tuple(read_lines(root / "ntrex128" / "newstest2019-src.eng.txt"))))
    elif ntrex:
        out.append(Source("ntrex128", "CC-BY-SA-4.0", tuple(read_lines(root / "ntrex128" / f"newstest2019-ref.{ntrex}.txt"))))
    if code in SEMREL_TRAIN:
        out.append(Source("semrel2024-train", "unstated", tuple(_semrel_train(root / "semrel2024" / f"{code}_train.csv"))))
    if code in AFRISENTI:
        rows = read_lines(root / "afrisenti" / code / "dev.tsv")[1:]
        out.append(Source("afrisenti-dev", "CC-BY-4.0", tuple(r.split("\t")[0] for r in rows if r.strip()), informal=True))
    if code in BIBLE:
        rows = read_lines(root / "bible" / f"{BIBLE[code]}.verses.tsv")[1:]
        out.append(Source("bible-nt", "CC0-1.0", tuple(r.split("\t", 1)[1] for r in rows if "\t" in r)))
    if code in TATOEBA:
        f = TATOEBA[code]
        out.append(Source("tatoeba", "CC-BY-2.0-FR", tuple(read_lines(root / "tatoeba" / f"tatoeba.{f}-eng.{f}"))))
    return tuple(out)


def sentences(code: str, shared: Path | None = None) -> list[str]:
    return [s for src in sources(code, shared) for s in src.sentences]
