"""Neighbouring-key typos from keyboard layouts declared as data (data/keyboards/*.yaml)."""

from __future__ import annotations

import random
import unicodedata
from functools import lru_cache

import yaml

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.perturb.chars import pick
from afroadv.resources import data_dir


@lru_cache(maxsize=None)
def load_layout(name: str) -> dict[str, tuple[str, ...]]:
    """Key → neighbouring keys, from rows of keys and each row's horizontal stagger."""
    path = data_dir() / "keyboards" / f"{name}.yaml"
    if not path.exists():
        raise AfroadvError(f"unknown keyboard layout {name!r} (no {path.name} in data/keyboards)")
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    positions: dict[str, tuple[int, float]] = {}
    for r, row in enumerate(spec["rows"]):
        for c, key in enumerate(row["keys"]):
            if key and key not in positions:
                positions[key] = (r, c + float(row.get("offset", 0)))
    neighbours: dict[str, tuple[str, ...]] = {}
    for key, (r, x) in positions.items():
        near = [k for k, (r2, x2) in positions.items() if k != key and abs(r2 - r) <= 1 and abs(x2 - x) <= 1.0]
        neighbours[key] = tuple(sorted(near, key=lambda k: (positions[k][0], positions[k][1])))
    return neighbours


class _KeyOp(Transformation):
    def __init__(self, lang: Language, layout: str | None = None):
        super().__init__(lang)
        self.layout_name = layout or lang.keyboard
        if not self.layout_name:
            raise AfroadvError(f"{lang.code} has no keyboard layout; pass `layout:` in the recipe")
        self.layout = load_layout(self.layout_name)
        self._cache: dict[str, tuple[int, ...]] = {}

    def _sites(self, word: str) -> tuple[int, ...]:
        sites = self._cache.get(word)
        if sites is None:
            sites = tuple(i for i, ch in enumerate(word) if ch.lower() in self.layout)
            if len(self._cache) < 200_000:
                self._cache[word] = sites
        return sites

    def applies(self, word: str) -> bool:
        return bool(self._sites(word))

    def _slip(self, word: str, rng: random.Random) -> tuple[int, str]:
        """A key position in the word and a neighbouring key (lower case)."""
        i = pick(self._sites(word), rng)
        return i, pick(self.layout[word[i].lower()], rng)


@register
class KeySubstitute(_KeyOp):
    """Hit the key next to the intended one."""

    kind = "key_substitute"

    def apply(self, word: str, rng: random.Random) -> str:
        i, new = self._slip(word, rng)
        return word[:i] + (new.upper() if word[i].isupper() else new) + word[i + 1 :]


@register
class KeyInsert(_KeyOp):
    """Fat finger: a neighbouring key pressed together with the intended one."""

    kind = "key_insert"

    def apply(self, word: str, rng: random.Random) -> str:
        i, new = self._slip(word, rng)
        new = new.upper() if word.isupper() else new
        j = i + (rng.random() < 0.5)
        if j < len(word) and unicodedata.combining(word[j]):
            j = i  # inserting after the letter would steal its combining mark
        return word[:j] + new + word[j:]
