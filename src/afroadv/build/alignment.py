"""The NTREX-128 word alignment of each language with English, computed once per build and shared
by the lexicon and word-class builds; and the English profile (proper nouns, noun use) they read."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from afroadv.build.corpora import shared_root
from afroadv.data.readers import read_lines
from afroadv.langs import get_language
from afroadv.lexicons.english import EnglishProfile
from afroadv.lexicons.induce import Alignment, align


def _stsb_sentences(root: Path) -> list[str]:
    out = []
    for line in read_lines(root / "stsbenchmark" / "sts-train.csv"):
        cols = line.split("\t")
        if len(cols) >= 7:
            out += [cols[5], cols[6]]
    return out


@lru_cache(maxsize=None)
def english_profile(shared: Path | None = None) -> EnglishProfile:
    """NTREX-128 English and the STS-B training sentences: enough running text to tell proper
    nouns and noun uses of frequent words."""
    root = shared_root(shared)
    return EnglishProfile(read_lines(root / "ntrex128" / "newstest2019-src.eng.txt") + _stsb_sentences(root))


@lru_cache(maxsize=None)
def ntrex_alignment(code: str, shared: Path | None = None) -> Alignment | None:
    lang = get_language(code)
    filecode = lang.bitext.get("ntrex")
    if not filecode:
        return None
    root = shared_root(shared)
    x = read_lines(root / "ntrex128" / f"newstest2019-ref.{filecode}.txt")
    e = read_lines(root / "ntrex128" / "newstest2019-src.eng.txt")
    return align(x, e, profile=english_profile(shared))
