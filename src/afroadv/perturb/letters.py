"""Which letter a typo introduces: the language's own letter distribution (data/letters), mixed with
keyboard neighbours (data/keyboards) — so hooks, accented vowels and rare Ge'ez syllables appear in
noise at about the rate writers use them, and a slip lands on a key next to the intended one.

Draws are inverse-CDF lookups on integer cumulative counts (`bisect_right(cum, u × total)`), which
numpy's `searchsorted(..., side="right")` reproduces exactly; vector.py relies on that.
"""

from __future__ import annotations

import hashlib
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from afroadv.langs import Language
from afroadv.perturb.scripts import ARABIC_LETTERS, ethiopic_row, latin_letters
from afroadv.resources import data_dir
from afroadv.text import ARABIC, ETHIOPIC, LATIN, OTHER_SCRIPT, char_script

HEADER = "script\tletter\tcount\n"


@dataclass(frozen=True)
class LetterTable:
    """Letters with integer weights; `pick(u)` draws one in proportion to its weight."""

    letters: str
    cum: tuple[int, ...]

    @classmethod
    def of(cls, weighted: list[tuple[str, int]]) -> LetterTable:
        return cls("".join(c for c, _ in weighted), tuple(accumulate(w for _, w in weighted)))

    @property
    def total(self) -> int:
        return self.cum[-1] if self.cum else 0

    def weight(self, i: int) -> int:
        return self.cum[i] - (self.cum[i - 1] if i else 0)

    def pick(self, u: float) -> str:
        return self.letters[bisect_right(self.cum, u * self.total)]

    def pick_except(self, u: float, letter: str) -> str:
        """A letter other than `letter`, in proportion to the others' weights."""
        i = self.letters.find(letter)
        if i < 0:
            return self.pick(u)
        w = self.weight(i)
        x = u * (self.total - w)
        if x >= self.cum[i] - w:
            x += w
        return self.letters[bisect_right(self.cum, x)]

    def offers_other_than(self, letter: str) -> bool:
        return any(c != letter for c in self.letters)


def _uniform(letters: str) -> LetterTable:
    return LetterTable.of([(c, 1) for c in dict.fromkeys(letters)])


def count_letters(texts) -> dict[str, Counter]:
    """Letters without marks only: a slip types a key, and a tone mark or under-dot (á, ẹ, ê) takes a
    deliberate long-press or dead key, so a typo never introduces one. Modifier letters (Arabic
    tatweel, ʼ) and compatibility forms (Arabic presentation forms, ligatures) are not keys a slip
    types either. (The rule of data/letters, and of a language learned from its dataset.)"""
    counts: dict[str, Counter] = {}
    for c, n in char_counts(texts).items():
        if not c.isalpha():
            continue
        low = c.lower()
        if (len(low) != 1 or len(unicodedata.normalize("NFD", low)) != 1 or unicodedata.category(low) == "Lm"
                or unicodedata.normalize("NFKC", low) != low):
            continue
        script = char_script(low)
        if script == OTHER_SCRIPT:
            continue
        counts.setdefault(script, Counter())[low] += n
    return counts


def char_counts(texts) -> Counter:
    """How often each character occurs in the texts, after NFC (counted once, then judged per character)."""
    return Counter(unicodedata.normalize("NFC", "\n".join(texts)))  # (no character composes with a newline)


def prune(counts: dict[str, Counter], min_share: float = 2e-5, min_count: int = 5) -> dict[str, Counter]:
    """Letters rarer than `min_share` of their script's letters or seen under `min_count` times go
    (names, foreign words); a script left with fewer than two letters goes."""
    out = {}
    for script, c in counts.items():
        total = sum(c.values())
        kept = Counter({k: v for k, v in c.items() if v >= min_count and v >= min_share * total})
        if len(kept) >= 2:
            out[script] = kept
    return out


def render(counts: dict[str, Counter]) -> str:
    """Counts as data/letters/{code}.tsv holds them (a learned profile is hashed in this form)."""
    rows = [HEADER]
    for script in sorted(counts):
        for letter, n in sorted(counts[script].items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append(f"{script}\t{letter}\t{n}\n")
    return "".join(rows)


def parse_counts(raw: bytes) -> tuple[dict[str, LetterTable], str]:
    """A letters TSV as one table per script, and its version (the first 12 hex of its sha256)."""
    rows: dict[str, list[tuple[str, int]]] = {}
    for line in raw.decode("utf-8").splitlines()[1:]:
        script, letter, count = line.split("\t")
        rows.setdefault(script, []).append((unicodedata.normalize("NFC", letter), int(count)))
    return {s: LetterTable.of(r) for s, r in rows.items()}, hashlib.sha256(raw).hexdigest()[:12]


@lru_cache(maxsize=None)
def letter_counts(code: str) -> tuple[dict[str, LetterTable], str]:
    """data/letters/{code}.tsv as one table per script, and the file's version ({}, "" without one)."""
    path = data_dir() / "letters" / f"{code}.tsv"
    if not path.exists():
        return {}, ""
    return parse_counts(path.read_bytes())


class LetterModel:
    """A language's typo letters: per-script tables, keyboard neighbours, Ge'ez rows it writes."""

    def __init__(self, lang: Language, keyboard_share: float):
        self.code = lang.code
        self.keyboard_share = float(keyboard_share)
        # a language learned from its dataset carries its counts in the data/letters form
        counts, self.version = parse_counts(lang.learned.letters.encode("utf-8")) if lang.learned else letter_counts(lang.code)
        self.tables = dict(counts)
        self.tables.setdefault(LATIN, _uniform(latin_letters(lang.alphabet)))
        self.tables.setdefault(ARABIC, _uniform(ARABIC_LETTERS))
        if ETHIOPIC not in self.tables:  # no counts: every syllable is "written"
            self.tables[ETHIOPIC] = _uniform("".join(chr(c) for c in range(0x1200, 0x135B) if ethiopic_row(chr(c))))
        self.neighbours: dict[str, tuple[str, ...]] = {}
        if lang.keyboard and self.keyboard_share > 0:
            from afroadv.perturb.keyboard import load_layout

            self.neighbours = {k: tuple(v) for k, v in load_layout(lang.keyboard).items()}
        self._rows: dict[str, LetterTable | None] = {}

    def table(self, script: str, word: str) -> LetterTable:
        """The letters a typo in a word of `script` may introduce (an unknown script: the word's own)."""
        found = self.tables.get(script)
        return found if found is not None else _uniform("".join(c.lower() for c in word if c.isalpha()))

    def row(self, syllable: str) -> LetterTable | None:
        """The other syllables of a Ge'ez syllable's vowel-order row that the language writes, by use."""
        if syllable not in self._rows:
            eth = self.tables[ETHIOPIC]
            weighted = [(c, eth.weight(eth.letters.index(c))) for c in ethiopic_row(syllable)
                        if c != syllable and c in eth.letters]  # fmt: skip
            self._rows[syllable] = LetterTable.of(weighted) if weighted else None
        return self._rows[syllable]

    def slip(self, near: str, u_which: float, u_letter: float) -> str | None:
        """A key next to `near` (lower case) when the keyboard component is drawn, else None."""
        if u_which < self.keyboard_share:
            keys = self.neighbours.get(near.lower())
            if keys:
                return keys[int(u_letter * len(keys))]
        return None


_MODELS: dict[tuple[str, str, float, str], LetterModel] = {}


def letter_model(lang: Language, keyboard_share: float) -> LetterModel:
    key = (lang.code, lang.keyboard or "", float(keyboard_share), lang.learned.letters_sha256 if lang.learned else "")
    if key not in _MODELS:
        _MODELS[key] = LetterModel(lang, keyboard_share)
    return _MODELS[key]
