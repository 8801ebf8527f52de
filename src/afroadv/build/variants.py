"""Build data/variants/{code}.tsv: spellings of the same word that writers of the language use.

A word's variant is another spelling the language's rules allow (afroadv.spelling: its marks or a
hook left off — all its marks: a word with some marks kept spells another word too often —, an
equal-sounding Ge'ez syllable, an apostrophe) AND that is attested at least twice in
the language's corpora (NTREX-128, AfriSenti, Bible, Tatoeba; for Amharic also the aspell word
list) — or, for a dialect (`variants: [run]`), the related language's dictionary word for the same
meaning, when it is a cognate (a spelling within a third of the word's letters) and the lexicon
that gives the meaning passes the precision bar.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

from afroadv.build.corpora import shared_root, sources
from afroadv.build.words import SHIPPED_SOURCES
from afroadv.data.readers import read_lines
from afroadv.attack.core import levenshtein
from afroadv.build.output import out_folder, write_build_manifest, write_language_file
from afroadv.langs import registry
from afroadv.lexicons.induce import is_lexical
from afroadv.lexicons.store import lexicon_quality, load_lexicon
from afroadv.spelling import spelling_for
from afroadv.text import APOSTROPHES, nfc, words

WORDLISTS = {"amh": "am_aspell_wordlist.txt"}  # public domain; attests spellings
MIN_COUNT = 2


def vocabulary(code: str, shared: Path | None = None) -> Counter:
    counts: Counter = Counter()
    for src in sources(code, shared):
        if src.name in SHIPPED_SOURCES:
            for text in src.sentences:
                counts.update(w.casefold() for w in words(nfc(text)) if is_lexical(w))
    if code in WORDLISTS:
        for w in read_lines(shared_root(shared) / "wordlists" / WORDLISTS[code]):
            w = nfc(w.strip()).casefold()
            if w and is_lexical(w):
                counts[w] += MIN_COUNT
    return counts


def _bare(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _kind(a: str, b: str) -> str:
    """marks (only marks left off), apostrophe, or letters (a hook left off, a Ge'ez homophone)."""
    if _bare(a) == _bare(b):
        return "marks"
    if any(c in APOSTROPHES for c in a + b) and a.translate(_APOS) == b.translate(_APOS):
        return "apostrophe"
    return "letters"


_APOS = {ord(c): "'" for c in APOSTROPHES}


def spelling_variants(code: str, vocab: Counter) -> list[tuple[str, str, str, int, int]]:
    sp = spelling_for(registry()[code])
    groups: dict[str, list[str]] = {}
    for w, c in vocab.items():
        if c >= MIN_COUNT:
            groups.setdefault(sp.skeleton(w), []).append(w)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        for a in sorted(members):
            for b in sorted(members):
                if a == b or not sp.allowed(a, b):
                    continue
                kind = _kind(a, b)
                # marks: the word written without any (as people type without them); keeping some
                # marks spells another word too often (Yoruba ọwọ́ "hand" → owó "money")
                if kind == "marks" and b != _bare(b):
                    continue
                out.append((a, b, kind, vocab[a], vocab[b]))
    return out


def dialect_variants(code: str, vocab: Counter) -> list[tuple[str, str, str, int, int]]:
    """Cognates in a related language's dictionary (Kinyarwanda → Kirundi) for words of the
    language's own lexicon: only through entries of origins whose precision passes the bar, in both
    lexicons (the meaning is read in one and looked up in the other)."""
    lang = registry()[code]
    quality = lexicon_quality()
    own_origins = set(quality.get(lang.lexicon or "", {}).get("origins", ()))
    if not lang.variants or not own_origins:
        return []
    own = load_lexicon(lang.lexicon)
    out = []
    for rel in lang.variants:
        if not quality.get(rel, {}).get("origins"):
            continue  # the related dictionary did not pass the bar
        other = load_lexicon(rel)
        for w in sorted(own.nouns):
            meanings = own.noun_translations(w, frozenset(own_origins))
            if len(w) < 4 or vocab[w] < MIN_COUNT or not meanings:
                continue
            for r in sorted(other.translate_english(meanings[0])):
                if r == w or r in vocab or r[0] != w[0]:
                    continue  # (a spelling the language itself uses may be another word)
                if levenshtein(w, r) <= len(w) / 3:
                    out.append((w, r, f"dialect:{rel}", vocab[w], 0))
    return out


def build_variants(shared: Path | None = None, out_dir: Path | None = None) -> dict:
    out = out_folder("variants", out_dir)
    files = []
    for code in sorted(registry()):
        vocab = vocabulary(code, shared)
        rows = sorted(set(spelling_variants(code, vocab) + dialect_variants(code, vocab)))
        if not rows:
            (out / f"{code}.tsv").unlink(missing_ok=True)
            continue
        path, sha = write_language_file(out, code, "word\tvariant\tkind\tcount\tvariant_count\n"
                                        + "".join(f"{a}\t{b}\t{k}\t{ca}\t{cb}\n" for a, b, k, ca, cb in rows))
        files.append({"code": code, "file": path.name, "sha256": sha, "rows": len(rows),
                      "words": len({r[0] for r in rows}), "by_kind": dict(sorted(Counter(r[2] for r in rows).items()))})
    return write_build_manifest(
        out,
        "Spelling variants per language: other spellings of a word that the language's rules allow "
        "(afroadv.spelling) and its corpora attest (NTREX-128, AfriSenti, Bible, Tatoeba; Amharic also the aspell "
        "word list), and cognates in a related language's dictionary when both lexicons pass the precision bar. "
        "Used by the lexsub recipe. Built by `python -m afroadv.build variants`. Licence: CC BY-SA 4.0 "
        "(NTREX-128 derived).",
        files,
    )
