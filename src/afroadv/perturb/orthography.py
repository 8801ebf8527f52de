"""Non-standard spellings writers of a language actually use, as data (data/orthography/{code}.yaml).

Each rule is a measured habit, with its count in real informal text (`attested`, checked by
`python -m afroadv.build.orthography`), and is of one of four kinds:
- `letters`: a letter typed as another, every time in the word (Hausa ƙ → q: qasa, Yoruba ṣ → sh);
- `marks`: marks left off a word (Yoruba tone marks written on about half the words of a tweet);
- `words`: a whole word written another way (Swahili yaani → yani, asante → ahsante);
- `punctuation`: marks between words typed otherwise, chosen once per text (Amharic ። → :: or ፡፡ or .,
  ፧ → ?; Hausa 'yan → yan). Words never change there.
Word rules are chosen among those that apply in proportion to their attested counts.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import yaml

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.perturb.diacritics import expand_marks
from afroadv.resources import data_dir
from afroadv.text import match_case, nfc

KINDS = ("letters", "marks", "words", "punctuation")


@dataclass(frozen=True)
class WordRule:
    kind: str  # letters, marks or words
    src: str  # letters / words: what is written instead; marks: "" (the marks are in `marks`)
    dst: str
    weight: int
    marks: frozenset[str] = frozenset()

    def applies(self, word: str) -> bool:
        if self.kind == "letters":
            return self.src in word.casefold()
        if self.kind == "words":
            return word.casefold() == self.src
        return any(c in self.marks for c in unicodedata.normalize("NFD", word))

    def apply(self, word: str) -> str:
        if self.kind == "marks":
            return nfc("".join(c for c in unicodedata.normalize("NFD", word) if c not in self.marks))
        if self.kind == "words":
            return match_case(word, self.dst)
        out, i, low = [], 0, word.casefold()
        while (j := low.find(self.src, i)) >= 0:  # case of the replaced letters kept (Ƙasa → Qasa)
            out.append(word[i:j])
            out.append(match_case(word[j : j + len(self.src)], self.dst))
            i = j + len(self.src)
        out.append(word[i:])
        return "".join(out)


@dataclass(frozen=True)
class GapRule:
    """`src` typed as one of `dst` (by weight) between words; with `before`, only at the end of a gap
    followed by a word starting with one of those letters (Hausa 'yan → yan)."""

    src: tuple[str, ...]
    dst: tuple[str, ...]
    cum: tuple[int, ...]
    before: str = ""

    def rewrite(self, gap: str, following: str, u: float) -> str:
        if not any(s in gap for s in self.src):
            return gap
        new = self.dst[bisect_right(self.cum, u * self.cum[-1])]
        if self.before:
            if not following or following[0].casefold() not in self.before:  # ("" is in every string)
                return gap
            for s in self.src:
                if gap.endswith(s):
                    return gap[: -len(s)] + new
            return gap
        for s in self.src:
            gap = gap.replace(s, new)
        return gap


def _count(rule: dict, where: str) -> int:
    n = rule.get("attested")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise AfroadvError(f"{where}: every rule needs `attested`: how often real text shows it (a count > 0), got {n!r}")
    return n


@lru_cache(maxsize=None)
def load_orthography(code: str) -> tuple[tuple[WordRule, ...], tuple[GapRule, ...], str]:
    """(word rules, punctuation rules, file version) of a language; empty without a file."""
    path = data_dir() / "orthography" / f"{code}.yaml"
    if not path.exists():
        return (), (), ""
    raw_bytes = path.read_bytes()
    raw = yaml.safe_load(raw_bytes.decode("utf-8")) or {}
    where = f"data/orthography/{code}.yaml"
    unknown = set(raw) - set(KINDS) - {"corpus"}
    if unknown:
        raise AfroadvError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(KINDS)}")
    words: list[WordRule] = []
    for r in raw.get("letters") or ():
        words.append(WordRule("letters", nfc(str(r["from"])).casefold(), nfc(str(r["to"])), _count(r, where)))
    for r in raw.get("marks") or ():
        words.append(WordRule("marks", "", "", _count(r, where), frozenset(expand_marks(r["drop"]))))
    for r in raw.get("words") or ():
        words.append(WordRule("words", nfc(str(r["from"])).casefold(), nfc(str(r["to"])), _count(r, where)))
    gaps: list[GapRule] = []
    for r in raw.get("punctuation") or ():
        _count(r, where)
        src = r["from"] if isinstance(r["from"], list) else [r["from"]]
        to = r["to"]  # {typed: attested count}
        if not isinstance(to, dict) or not to:
            raise AfroadvError(f"{where}: punctuation `to` must map what is typed to its count, got {to!r}")
        gaps.append(GapRule(tuple(nfc(str(s)) for s in src), tuple(nfc(str(k)) for k in to),
                            tuple(accumulate(int(v) for v in to.values())), str(r.get("before", "")).casefold()))
    return tuple(words), tuple(gaps), hashlib.sha256(raw_bytes).hexdigest()[:12]


def refusal(lang: Language) -> str | None:
    """Why the orthography recipe has nothing for a language, or None."""
    rules, gap_rules, _ = load_orthography(lang.code)
    if not rules and not gap_rules:
        return f"no non-standard spellings are recorded for {lang.code} (data/orthography/{lang.code}.yaml)"
    return None


@register
class Respell(Transformation):
    """A word spelled as writers of the language often do: ƙasa → qasa, ọmọ́ → ọmọ, yaani → yani."""

    kind = "respell"

    def __init__(self, lang: Language):
        super().__init__(lang)
        why = refusal(lang)
        if why:
            raise AfroadvError(why)
        self.rules, self.gap_rules, self.version = load_orthography(lang.code)
        self.styles_gaps = bool(self.gap_rules)

    def _options(self, word: str) -> list[WordRule]:
        return [r for r in self.rules if r.applies(word) and r.apply(word) != word]

    def applies(self, word: str) -> bool:
        return bool(self._options(word))

    def apply(self, word: str, rng: random.Random) -> str:
        options = self._options(word)
        cum = list(accumulate(r.weight for r in options))
        return options[bisect_right(cum, rng.random() * cum[-1])].apply(word)

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return list(dict.fromkeys(r.apply(word) for r in sorted(self._options(word), key=lambda r: -r.weight)))[:n]

    def restyle_gaps(self, gaps: list[str], tokens: list[str], rng) -> list[str]:
        for rule in self.gap_rules:
            u = rng.random()  # one choice per rule and text: a writer keeps to one habit in a message
            gaps = [rule.rewrite(g, tokens[i] if i < len(tokens) else "", u) for i, g in enumerate(gaps)]
        return gaps

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"orthography": f"{self.lang.code}@{self.version}"}
