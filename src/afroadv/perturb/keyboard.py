"""Keyboard slips from layouts declared as data (data/keyboards/*.yaml).

A layout is rows of keys (QWERTY, AZERTY, Arabic): a slip hits a neighbouring key. Two richer kinds
state, as data with their sources, how African keyboards type the letters plain rows lack:

- `layers:` letters typed with a modifier over a plain key — AltGr or a dead key (CLDR's Windows
  layouts for Hausa, Yoruba, Igbo). Such a letter slips to its plain key (modifier missed: ƙ → k), to
  the same layer's letter of a neighbouring key (ị → ụ) or to a neighbouring plain key (both at
  once); a plain key typed with AltGr still held gives its AltGr letter (k → ƙ).
- `syllabic:` a phonetic Ge'ez layout (Keyman's GFF Amharic / Tigrinya): a syllable is its consonant's
  key(s) then its vowel order's key(s). A vowel key hit beside the intended one, or not pressed, gives
  another order of the same consonant (ሉ → ሊ, ለ → ል); a consonant key beside the intended one gives
  that consonant in the same order (ለ → ከ). Only syllables come out: Ge'ez stays Ge'ez.

Each slip has a weight (`slips:` in the file); a layout compiles to "unit → slips", a unit being a
key's letter or a letter typed with a modifier (lower case), or a syllable.
"""

from __future__ import annotations

import hashlib
import json
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
from afroadv.perturb.chars import pick
from afroadv.perturb.scripts import ethiopic_row
from afroadv.resources import data_dir
from afroadv.text import ETHIOPIC, char_script

_LAYER_SLIPS = ("key_neighbour", "modifier_missed", "modifier_missed_and_neighbour", "altgr_held")
_SYLLABIC_SLIPS = ("vowel_neighbour", "vowel_missed", "consonant_neighbour", "consonant_missed", "shift_slip")


@dataclass(frozen=True)
class Slips:
    """What a unit may be mistyped as, each with a weight (`cum` None: all equally likely)."""

    options: tuple[str, ...]
    cum: tuple[int, ...] | None = None

    @classmethod
    def of(cls, weighted: dict[str, int]) -> Slips:
        weights = list(weighted.values())
        if len(set(weights)) <= 1:
            return cls(tuple(weighted))
        return cls(tuple(weighted), tuple(accumulate(weights)))

    def draw(self, rng: random.Random) -> str:
        """One option, from one draw."""
        if self.cum is None:
            return pick(self.options, rng)
        return self.options[bisect_right(self.cum, rng.random() * self.cum[-1])]


@dataclass(frozen=True)
class Layout:
    name: str
    neighbours: dict[str, tuple[str, ...]]  # key → neighbouring keys, when keys type their own letters
    substitutes: dict[str, Slips]  # unit → what it is mistyped as
    strays: dict[str, Slips]  # unit → what an extra key pressed beside it types
    longest: int  # the longest unit, in code points
    whole_units: bool  # a unit followed by a combining mark it does not include is not a site

    @property
    def version(self) -> str:
        """A digest of what the layout types (not of its comments): manifests record it, so a
        review registered for one layout's sets never describes another's."""
        tables = [self.neighbours, *({u: [s.options, s.cum] for u, s in t.items()} for t in (self.substitutes, self.strays)),
                  self.whole_units]  # fmt: skip
        return hashlib.sha256(json.dumps(tables, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:12]


@lru_cache(maxsize=None)
def load_keyboard(name: str) -> Layout:
    """data/keyboards/{name}.yaml, checked and compiled (a bad file: one AfroadvError line)."""
    spec = _read(name)
    where = _where(name)
    try:
        return _compile(name, spec, where)
    except AfroadvError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        raise AfroadvError(f"{where}: malformed ({type(e).__name__}: {' '.join(str(e).split())})") from None


def load_layout(name: str) -> dict[str, tuple[str, ...]]:
    """Key → neighbouring keys, for layouts whose keys type their own letters (charnoise reads this;
    a phonetic Ge'ez layout gives none: its keys type syllables)."""
    return load_keyboard(name).neighbours


def _where(name: str) -> str:
    return f"keyboard layout {name!r} (data/keyboards/{name}.yaml)"


def _read(name: str) -> dict:
    path = data_dir() / "keyboards" / f"{name}.yaml"
    if not path.exists():
        raise AfroadvError(f"unknown keyboard layout {name!r} (no {path.name} in data/keyboards)")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise AfroadvError(f"{_where(name)}: not valid YAML ({' '.join(str(e).split())})") from None
    if not isinstance(spec, dict):
        raise AfroadvError(f"{_where(name)}: expected a mapping with `rows` or `rows_from`")
    return spec


def _rows(spec: dict, where: str, seen: tuple[str, ...] = ()) -> list[dict]:
    if "rows_from" in spec:
        other = spec["rows_from"]
        if not isinstance(other, str) or other in seen:
            raise AfroadvError(f"{where}: `rows_from` must name another layout, got {other!r}")
        return _rows(_read(other), where, (*seen, other))
    rows = spec.get("rows")
    if not isinstance(rows, list) or not rows:
        raise AfroadvError(f"{where}: needs `rows` (rows of keys) or `rows_from` (a layout whose rows it shares)")
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("keys"), list) or not all(isinstance(k, str) for k in row["keys"]):
            raise AfroadvError(f"{where}: every row needs `keys`, a list of key letters, got {row!r}")
        float(row.get("offset", 0))
    return rows


def _key_neighbours(rows: list[dict]) -> dict[str, tuple[str, ...]]:
    """Key → neighbouring keys, from rows of keys and each row's horizontal stagger (|dx| <= 1)."""
    positions: dict[str, tuple[int, float]] = {}
    for r, row in enumerate(rows):
        for c, key in enumerate(row["keys"]):
            if key and key not in positions:
                positions[key] = (r, c + float(row.get("offset", 0)))
    neighbours: dict[str, tuple[str, ...]] = {}
    for key, (r, x) in positions.items():
        near = [k for k, (r2, x2) in positions.items() if k != key and abs(r2 - r) <= 1 and abs(x2 - x) <= 1.0]
        neighbours[key] = tuple(sorted(near, key=lambda k: (positions[k][0], positions[k][1])))
    return neighbours


def _weights(spec: dict, names: tuple[str, ...], where: str) -> dict[str, int]:
    raw = spec.get("slips")
    if not isinstance(raw, dict) or set(raw) != set(names):
        raise AfroadvError(f"{where}: `slips` must give a weight to each of {', '.join(names)}, got {raw!r}")
    for k, w in raw.items():
        if not isinstance(w, int) or isinstance(w, bool) or w < 0:
            raise AfroadvError(f"{where}: slip weight {k!r} must be a whole number >= 0, got {w!r}")
    return raw


def _nfc(text, where: str) -> str:
    if not isinstance(text, str) or not text:
        raise AfroadvError(f"{where}: expected a letter, got {text!r}")
    return unicodedata.normalize("NFC", text)


def _compile(name: str, spec: dict, where: str) -> Layout:
    neighbours = _key_neighbours(_rows(spec, where))
    if "syllabic" in spec:
        return _compile_syllabic(name, spec, neighbours, where)
    layers = spec.get("layers", [])
    if not isinstance(layers, list):
        raise AfroadvError(f"{where}: `layers` must be a list of {{via: altgr|dead, keys: {{key: letter}}}}")
    if not layers:  # plain rows: a slip is a neighbouring key, all equally likely
        slips = {k: Slips(v) for k, v in neighbours.items() if v}
        return Layout(name, neighbours, slips, slips, 1, False)
    typed: dict[str, tuple[str, dict[str, str]]] = {}  # letter → (its key, its layer)
    held: dict[str, str] = {}  # key → its AltGr letter
    for layer in layers:
        if not isinstance(layer, dict) or layer.get("via") not in ("altgr", "dead") or not isinstance(layer.get("keys"), dict):
            raise AfroadvError(f"{where}: every layer needs `via: altgr` or `via: dead` and `keys: {{key: letter}}`, got {layer!r}")
        keys = {}
        for key, letter in layer["keys"].items():
            if key not in neighbours:
                raise AfroadvError(f"{where}: layer key {key!r} is not a key of the rows")
            keys[key] = _nfc(letter, where).lower()
        for key, letter in keys.items():
            typed.setdefault(letter, (key, keys))
            if layer["via"] == "altgr":
                held.setdefault(key, letter)
    w = _weights(spec, _LAYER_SLIPS, where)
    substitutes: dict[str, Slips] = {}
    strays: dict[str, Slips] = {}  # an extra key beside a letter: as a slip, never the letter's own plain key
    for key, near in neighbours.items():
        options = {k: w["key_neighbour"] for k in near}
        if key in held and w["altgr_held"]:
            options[held[key]] = options.get(held[key], 0) + w["altgr_held"]
        if options:
            substitutes[key] = strays[key] = Slips.of(options)
    for letter, (key, layer) in typed.items():
        options = {}
        for option, weight in [(key, w["modifier_missed"])] + [(layer[k], w["key_neighbour"]) for k in neighbours[key] if k in layer] \
                + [(k, w["modifier_missed_and_neighbour"]) for k in neighbours[key]]:  # fmt: skip
            if weight and option != letter:
                options[option] = options.get(option, 0) + weight
        if options:
            substitutes[letter] = Slips.of(options)
            if any(o != key for o in options):
                strays[letter] = Slips.of({o: x for o, x in options.items() if o != key})
    longest = max(len(u) for u in substitutes)
    return Layout(name, neighbours, substitutes, strays, longest, True)


def _syllable(row: str, order: int) -> str | None:
    """The `order`-th (1–7) syllable of the row whose 1st order is `row`, if Unicode has it."""
    s = chr(ord(row) + order - 1)
    return s if s in ethiopic_row(row) else None


def _compile_syllabic(name: str, spec: dict, neighbours: dict[str, tuple[str, ...]], where: str) -> Layout:
    syl = spec["syllabic"]
    w = _weights(spec, _SYLLABIC_SLIPS, where)
    if not isinstance(syl, dict):
        raise AfroadvError(f"{where}: `syllabic` must be a mapping with consonants, orders, vowels")
    consonants = {}
    for keys, row in (syl.get("consonants") or {}).items():
        row = _nfc(row, where)
        if len(row) != 1 or char_script(row) != ETHIOPIC or _syllable(row, 1) != row or not keys:
            raise AfroadvError(f"{where}: consonant {keys!r} must give a 1st-order Ge'ez syllable, got {row!r}")
        consonants[str(keys)] = row
    orders = {}
    for order, keys in (syl.get("orders") or {}).items():
        if order not in range(1, 8) or not isinstance(keys, str):
            raise AfroadvError(f"{where}: `orders` maps 1–7 to vowel keys, got {order!r}: {keys!r}")
        orders[keys] = order
    vowels = {}
    for s, keys in (syl.get("vowels") or {}).items():
        s = _nfc(s, where)
        if len(s) != 1 or char_script(s) != ETHIOPIC or not isinstance(keys, str) or not keys:
            raise AfroadvError(f"{where}: `vowels` maps a Ge'ez syllable to its keys, got {s!r}: {keys!r}")
        vowels[keys] = s
    if not consonants or len(orders) != 7:
        raise AfroadvError(f"{where}: `syllabic` needs `consonants` and all 7 `orders`")
    all_keys = set(neighbours) | {k.upper() for k in neighbours}
    for keys in [*consonants, *orders, *vowels]:
        if any(k not in all_keys for k in keys):
            raise AfroadvError(f"{where}: keys {keys!r} are not keys of the rows")
    same = set(str(syl.get("shift_same", "")))

    def consonant(keys: str) -> str | None:
        if len(keys) == 1 and keys in same:
            keys = keys.lower()
        return consonants.get(keys)

    def near(k: str) -> tuple[str, ...]:  # a key's neighbours, Shift as held on it
        return tuple(n.upper() if k.isupper() else n for n in neighbours.get(k.lower(), ()))

    def variants(keys: str):
        """(kind, keys) for every one-key slip on `keys`: a key missed, hit beside, Shift slipped."""
        for i, k in enumerate(keys):
            yield "missed", keys[:i] + keys[i + 1 :]
            for n in near(k):
                yield "neighbour", keys[:i] + n + keys[i + 1 :]
            yield "shift", keys[:i] + k.swapcase() + keys[i + 1 :]

    typed: dict[str, tuple[str, str | None, str]] = {}  # syllable → (consonant keys, row, vowel keys)
    for ckeys, row in consonants.items():
        for vkeys, order in orders.items():
            s = _syllable(row, order)
            if s:
                typed.setdefault(s, (ckeys, row, vkeys))
    for vkeys, s in vowels.items():
        typed.setdefault(s, ("", None, vkeys))
    substitutes: dict[str, Slips] = {}
    strays: dict[str, Slips] = {}
    for s, (ckeys, row, vkeys) in typed.items():
        options: dict[str, int] = {}

        def add(option: str | None, weight: int) -> None:
            if option and option != s and weight:
                options[option] = options.get(option, 0) + weight

        order = ord(s) - ord(row) + 1 if row else 0
        for kind, v in variants(vkeys):
            weight = w["vowel_neighbour"] if kind == "neighbour" else w["vowel_missed"] if kind == "missed" else 0
            add(_syllable(row, orders[v]) if row and v in orders else vowels.get(v) if not row else None, weight)
        if row:
            for kind, c in variants(ckeys):
                weight = w[{"missed": "consonant_missed", "neighbour": "consonant_neighbour", "shift": "shift_slip"}[kind]]
                other = consonant(c) if c else None
                add(_syllable(other, order) if other else None, weight)
        if options:
            substitutes[s] = Slips.of(options)
        if ckeys:  # a key beside the consonant key pressed too: its consonant, no vowel (6th order)
            extra = {x: 1 for n in near(ckeys[0]) if (c := consonant(n)) and (x := _syllable(c, 6))}
            if extra:
                strays[s] = Slips.of(extra)
    return Layout(name, {}, substitutes, strays, 1, True)


class _KeyOp(Transformation):
    slips_of = "substitutes"  # which Layout table the operation draws from

    def __init__(self, lang: Language, layout: str | None = None):
        super().__init__(lang)
        self.layout_name = layout or lang.keyboard
        if not self.layout_name:
            raise AfroadvError(f"{lang.code} has no keyboard layout; pass `layout:` in the recipe")
        self.layout = load_keyboard(self.layout_name)
        self.table: dict[str, Slips] = getattr(self.layout, self.slips_of)
        self._cache: dict[str, tuple[tuple[int, str], ...]] = {}

    def _sites(self, word: str) -> tuple[tuple[int, str], ...]:
        """(position, unit) of every unit of the word a slip can hit, longest unit first."""
        sites = self._cache.get(word)
        if sites is None:
            table, layout = self.table, self.layout
            found = []
            i, n = 0, len(word)
            while i < n:
                for size in range(min(layout.longest, n - i), 0, -1):
                    unit = word[i : i + size].lower()
                    if unit in table:
                        if not (layout.whole_units and i + size < n and unicodedata.combining(word[i + size])):
                            found.append((i, unit))
                        i += size - 1
                        break
                i += 1
            sites = tuple(found)
            if len(self._cache) < 200_000:
                self._cache[word] = sites
        return sites

    def applies(self, word: str) -> bool:
        return bool(self._sites(word))

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"keyboard": f"{self.layout_name}@{self.layout.version}"}

    def _slip(self, word: str, rng: random.Random) -> tuple[int, str, str]:
        """A unit of the word (its position and lower-case text) and what the slip types instead."""
        i, unit = pick(self._sites(word), rng)
        return i, unit, self.table[unit].draw(rng)


@register
class KeySubstitute(_KeyOp):
    """Hit the key next to the intended one (or miss or slip a modifier, or a Ge'ez vowel key)."""

    kind = "key_substitute"

    def apply(self, word: str, rng: random.Random) -> str:
        i, unit, new = self._slip(word, rng)
        return word[:i] + (new.upper() if word[i].isupper() else new) + word[i + len(unit) :]


@register
class KeyInsert(_KeyOp):
    """Fat finger: a neighbouring key pressed together with the intended one."""

    kind = "key_insert"
    slips_of = "strays"

    def apply(self, word: str, rng: random.Random) -> str:
        i, unit, new = self._slip(word, rng)
        new = new.upper() if word.isupper() else new
        j = i + len(unit) if rng.random() < 0.5 else i
        if j < len(word) and unicodedata.combining(word[j]):
            j = i  # inserting after the letter would steal its combining mark
        return word[:j] + new + word[j:]
