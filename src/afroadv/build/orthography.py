"""Measure the non-standard spellings of data/orthography/*.yaml in real informal text (maintainers).

`python -m afroadv.build.orthography` prints, per rule, how often the informal corpus of the
language (AfriSenti tweets) shows it, beside the `attested` count the file records:
- letters F → T: tokens written with T where edited text (NTREX, SemRel train, Bible, Tatoeba)
  writes the same word with F, and never with T (qasa for ƙasa);
- marks: tokens without the marks whose marked form edited text writes (oko for ọkọ̀ counts once
  the under-dots match: only the listed marks are compared);
- words F → T: tokens T where edited text never writes T;
- punctuation F → T: each T right after a letter of the language's script (`before` rules: T
  followed by a word starting with one of those letters, where edited text writes F there).
"""

from __future__ import annotations

import sys
import unicodedata
from collections import Counter

import regex
import yaml

from afroadv.build.corpora import sources
from afroadv.langs import get_language
from afroadv.perturb.diacritics import expand_marks
from afroadv.resources import data_dir
from afroadv.text import nfc, split_tokens

_LETTER_BEFORE = "(?<=\\p{{Script={}}}\\p{{M}}*)"  # a letter of the language's own script


def _strip(word: str, marks: set[str]) -> str:
    return nfc("".join(c for c in unicodedata.normalize("NFD", word) if c not in marks))


def measure(code: str) -> list[tuple[str, int, int]]:
    """(rule, recorded count, measured count) for every rule of data/orthography/{code}.yaml."""
    spec = yaml.safe_load((data_dir() / "orthography" / f"{code}.yaml").read_text(encoding="utf-8"))
    script = get_language(code).script
    informal = [nfc(s) for src in sources(code) if src.informal for s in src.sentences]
    edited = Counter(t.casefold() for src in sources(code) if not src.informal
                     for s in src.sentences for t in split_tokens(nfc(s))[1::2])  # fmt: skip
    tokens = Counter(t.casefold() for s in informal for t in split_tokens(s)[1::2])
    out = []
    for r in spec.get("letters") or ():
        f, t = nfc(r["from"]).casefold(), nfc(r["to"]).casefold()
        loose = r.get("loose", False)  # edited text writes the plain form too ('yan for ƴan): count it anyway
        n = sum(c for w, c in tokens.items() if t in w and (loose or edited[w] == 0) and edited[w.replace(t, f)] > 0)
        out.append((f"letters {f} → {t}", r["attested"], n))
    for r in spec.get("marks") or ():
        marks = expand_marks(r["drop"])
        marked = {_strip(w, marks) for w in edited if _strip(w, marks) != w}
        n = sum(c for w, c in tokens.items() if w in marked and edited[w] == 0 and not set(unicodedata.normalize("NFD", w)) & marks)
        out.append((f"marks {' '.join(r['drop'])}", r["attested"], n))
    for r in spec.get("words") or ():
        t = nfc(r["to"]).casefold()
        out.append((f"words {r['from']} → {t}", r["attested"], tokens[t] if edited[t] == 0 else 0))
    for r in spec.get("punctuation") or ():
        for typed, recorded in r["to"].items():
            if r.get("before"):  # words edited text writes after the mark, typed without it
                srcs = "".join(r["from"] if isinstance(r["from"], list) else [r["from"]])
                marked = Counter(m.casefold() for src in sources(code) if not src.informal for s in src.sentences
                                 for m in regex.findall(rf"(?<![\p{{L}}\p{{M}}])[{srcs}]([{r['before']}]\p{{L}}*)", nfc(s), flags=regex.I))
                after = {w for w, c in marked.items() if c >= 5}  # edited text writes these with the mark (5 times or more)
                n = sum(1 for s in informal for m in regex.findall(rf"(?<![\p{{L}}\p{{M}}{srcs}])([{r['before']}]\p{{L}}*)", s, flags=regex.I)
                        if m.casefold() in after and typed == "")  # fmt: skip
            else:
                n = sum(len(regex.findall(_LETTER_BEFORE.format(script) + r"\s*" + regex.escape(typed) + r"(?!\.)", s)) for s in informal)
            out.append((f"punctuation {r['from']} → {typed!r}", recorded, n))
    return out


def main(codes: list[str]) -> int:
    bad = 0
    for path in sorted((data_dir() / "orthography").glob("*.yaml")):
        if codes and path.stem not in codes:
            continue
        for rule, recorded, measured in measure(path.stem):
            flag = "" if recorded == measured else "  <- differs"
            bad += bool(flag)
            print(f"{path.stem}\t{rule}\trecorded {recorded}\tmeasured {measured}{flag}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
