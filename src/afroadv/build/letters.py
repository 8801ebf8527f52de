"""Build data/letters/{code}.tsv: how often each letter occurs in a language's own text, per script.

charnoise draws the letters a typo introduces from these counts, so a letter appears in noise about
as often as writers of the language use it (Hausa hooks ~1% of letters, not 4 of 30 uniformly), and
a Ge'ez typo stays among the syllables the language writes. Letters are counted lower-cased after
NFC; a letter carrying a mark (á, ẹ, ê) is not counted: a typo never adds a tone mark or under-dot.
Hooked letters (ɓ ɗ ƙ ƴ) are letters of their own and count. Letters rarer than `min_share` of the
script's letters (names, foreign words) are dropped.
"""

from __future__ import annotations

from pathlib import Path

from afroadv.build.corpora import sources
from afroadv.build.output import out_folder, write_build_manifest, write_language_file
from afroadv.langs import registry
from afroadv.lexicons.store import load_lexicon
from afroadv.perturb.letters import count_letters, prune, render


def build_letters(shared: Path | None = None, out_dir: Path | None = None) -> dict:
    out = out_folder("letters", out_dir)
    files = []
    for code in sorted(registry()):
        srcs = sources(code, shared)
        if srcs:
            texts = [s for src in srcs for s in src.sentences]
            used = [{"name": s.name, "licence": s.licence, "sentences": len(s.sentences)} for s in srcs]
        else:  # no running text ships (Darija, Kirundi): the words of the language's dictionary
            lex = load_lexicon(registry()[code].lexicon)
            texts = sorted(lex.to_english)
            used = [{"name": f"{lex.version} words", "licence": "CC-BY-4.0", "sentences": len(texts)}]
        counts = prune(count_letters(texts))
        if not counts:
            continue
        path, sha = write_language_file(out, code, render(counts))
        files.append({"code": code, "file": path.name, "sources": used, "sha256": sha,
                      "letters": {s: len(c) for s, c in sorted(counts.items())}})
    return write_build_manifest(
        out,
        "Letter counts per language and script (lower-cased, NFC, marks excluded; letters under "
        "0.002% of a script's letters or seen under 5 times dropped). charnoise draws typo letters from them. "
        "Built by `python -m afroadv.build letters` from the corpora named per file; counts are facts about "
        "those corpora (NTREX-128 CC BY-SA 4.0, AfriSenti CC BY 4.0, Bible CC0, Tatoeba CC BY 2.0 FR, "
        "SemRel 2024 train, GATITOS CC BY 4.0).",
        files,
    )
