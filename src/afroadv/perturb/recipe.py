"""Recipes (recipes/*.yaml) → Perturbers. A recipe is data: transformations with weights, a rate
(share of eligible words), the sides of a pair it touches, and what it never touches."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple
from pathlib import Path

import yaml

from afroadv.data.pairs import Pair
from afroadv.errors import AfroadvError
from afroadv.langs import Language, get_language, registry
from afroadv.perturb.analysis import ALWAYS, FIXED, INITIAL, PROTECTED, Analysis, TextAnalyser
from afroadv.perturb.base import Transformation, build_transformation
from afroadv.perturb.chars import CharKernel
from afroadv.perturb.rng import Stream, batch_streams, stream_keys
from afroadv.resources import recipes_dir
from afroadv.text import has_digit, is_protected_token, name_flags, nfc

SIDES = ("both", "first", "second")
PROTECTABLE = {"numbers", "urls", "emails", "mentions", "hashtags", "names", "stopwords"}
REQUIREMENTS = {"keyboard", "lexicon", "variants"}
_FIRST_DRAWS = 32  # per pair, computed in bulk; a pair that needs more extends its stream


@dataclass(frozen=True)
class Step:
    kind: str
    weight: float = 1.0
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    steps: tuple[Step, ...]
    rate: float = 0.15
    min_words: int = 1  # per touched sentence, when it has an eligible word: no wasted pairs
    sides: str = "both"
    languages: tuple[str, ...] | str = "all"
    scripts: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    protect: tuple[str, ...] = ("numbers", "urls", "emails", "mentions", "hashtags", "names")
    path: str = ""

    def params(self) -> dict:
        """Everything that determines the output, for manifests."""
        return {
            "rate": self.rate,
            "min_words": self.min_words,
            "sides": self.sides,
            "protect": list(self.protect),
            "transformations": [{"kind": s.kind, "weight": s.weight, "params": s.params} for s in self.steps],
        }

    def supports(self, lang: Language) -> bool:
        if self.languages != "all" and lang.code not in self.languages:
            return False
        if self.scripts and lang.script not in self.scripts:
            return False
        from afroadv.lexicons.store import load_lexicon

        if "keyboard" in self.requires and not lang.keyboard:
            return False
        if "lexicon" in self.requires and not len(load_lexicon(lang.lexicon)):
            return False
        if "variants" in self.requires and not (len(load_lexicon(lang.lexicon)) or lang.variants):
            return False
        return True

    def supported_languages(self) -> list[str]:
        return [code for code, lang in registry().items() if self.supports(lang)]

    def perturber(self, lang: Language, rate: float | None = None, sides: str | None = None) -> Perturber:
        if not self.supports(lang):
            raise AfroadvError(
                f"recipe {self.name!r} does not support {lang.code}; it supports: {', '.join(self.supported_languages())}"
            )
        recipe = self
        if rate is not None or sides is not None:
            recipe = replace(self, rate=self.rate if rate is None else _rate(rate, "--rate"), sides=sides or self.sides)
            _check_sides(recipe.sides, "--sides")
        return Perturber(recipe, lang)


def _rate(value, where: str) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise AfroadvError(f"{where}: rate {value!r} is not a number") from None
    if not 0.0 <= r <= 1.0:
        raise AfroadvError(f"{where}: rate must be between 0 and 1, got {r}")
    return r


def _check_sides(sides: str, where: str) -> None:
    if sides not in SIDES:
        raise AfroadvError(f"{where}: sides must be one of {', '.join(SIDES)}, got {sides!r}")


def parse_recipe(raw: dict, where: str) -> Recipe:
    if not isinstance(raw, dict):
        raise AfroadvError(f"{where}: a recipe is a YAML mapping")
    unknown = set(raw) - {"name", "description", "transformations", "rate", "min_words", "sides", "languages", "scripts", "requires", "protect"}
    if unknown:
        raise AfroadvError(f"{where}: unknown recipe field(s) {', '.join(sorted(unknown))}")
    for key in ("name", "description", "transformations"):
        if key not in raw:
            raise AfroadvError(f"{where}: recipe needs `{key}`")
    steps = []
    for t in raw["transformations"] or []:
        if not isinstance(t, dict) or "kind" not in t:
            raise AfroadvError(f"{where}: each transformation needs a `kind`")
        steps.append(Step(str(t["kind"]), float(t.get("weight", 1.0)), dict(t.get("params") or {})))
    if not steps:
        raise AfroadvError(f"{where}: recipe has no transformations")
    protect = tuple(raw.get("protect", Recipe.protect))
    bad = set(protect) - PROTECTABLE
    if bad:
        raise AfroadvError(f"{where}: cannot protect {', '.join(sorted(bad))}; known: {', '.join(sorted(PROTECTABLE))}")
    requires = tuple(raw.get("requires") or ())
    if set(requires) - REQUIREMENTS:
        raise AfroadvError(f"{where}: unknown requirement(s) {', '.join(sorted(set(requires) - REQUIREMENTS))}")
    langs = raw.get("languages", "all")
    sides = str(raw.get("sides", "both"))
    _check_sides(sides, where)
    return Recipe(
        name=str(raw["name"]),
        description=str(raw["description"]).strip(),
        steps=tuple(steps),
        rate=_rate(raw.get("rate", 0.15), where),
        min_words=int(raw.get("min_words", 1)),
        sides=sides,
        languages="all" if langs == "all" else tuple(get_language(c).code for c in langs),
        scripts=tuple(raw.get("scripts") or ()),
        requires=requires,
        protect=protect,
        path=where,
    )


@lru_cache(maxsize=None)
def _load_path(path: str) -> Recipe:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise AfroadvError(f"{p}: invalid YAML ({str(e).splitlines()[0]})") from None
    except OSError as e:
        raise AfroadvError(f"cannot read recipe {p}: {e.strerror}") from None
    return parse_recipe(raw, str(p))


def list_recipes() -> list[Recipe]:
    return [_load_path(str(p)) for p in sorted(recipes_dir().glob("*.yaml"))]


def load_recipe(name: str) -> Recipe:
    """A shipped recipe by name, or a YAML file path."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        return _load_path(str(Path(name).resolve()))
    path = recipes_dir() / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(r.name for r in list_recipes())
        raise AfroadvError(f"unknown recipe {name!r}; known: {known} (see `afroadv recipes`)")
    return _load_path(str(path))


class TextResult(NamedTuple):
    text: str
    n_words: int
    n_eligible: int
    changes: tuple[tuple[int, str, str], ...]  # (word index, old, new)

    @property
    def n_changed(self) -> int:
        return len(self.changes)


def derived_rng(*parts) -> random.Random:
    """A random.Random named by its parts: for augmentation, attacks and sampling, where the full
    random API matters more than the cost of seeding (generation uses rng.Stream instead)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode("utf-8"), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


def choose_k(n: int, k: int, rng) -> list[int]:
    """k distinct indices of range(n), ascending: a partial Fisher–Yates over a sparse permutation
    (only displaced entries are stored), so choosing 2 of 40 costs 2 draws, not a 40-element list."""
    rand = rng.random
    if k == 1:
        return [int(rand() * n)]
    moved: dict[int, int] = {}
    out = []
    for j in range(k):
        r = j + int(rand() * (n - j))
        out.append(moved.get(r, r))
        moved[r] = moved.get(j, j)
    out.sort()
    return out


class Perturber:
    """A recipe bound to a language: rewrites a share of the eligible words of a text."""

    def __init__(self, recipe: Recipe, lang: Language):
        self.recipe = recipe
        self.lang = lang
        built = [(build_transformation(s.kind, lang, s.params), s.weight) for s in recipe.steps]
        self.transformations: list[tuple[Transformation, float]] = [(t, w) for t, w in built if w > 0]
        self.stopwords = lang.stopword_set() if "stopwords" in recipe.protect else frozenset()
        self._protect_numbers = "numbers" in recipe.protect
        self._protect_names = "names" in recipe.protect
        self._word_options: dict[str, tuple[tuple[tuple[Transformation, float], ...], float]] = {}
        letters_only = not self.stopwords and any(t.applies_to_letters for t, _ in self.transformations)
        self.analyser = TextAnalyser(self._judge, ALWAYS if letters_only else None)
        self._kernel = CharKernel.build(self.transformations)
        self._batch_kernel = False  # not built yet

    @property
    def resource_versions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for t, _ in self.transformations:
            out.update(t.resource_versions)
        return out

    @staticmethod
    def _pick(found: tuple[tuple[tuple[Transformation, float], ...], float], rng) -> Transformation:
        """A transformation among those that apply, in proportion to its weight."""
        opts, total = found
        if len(opts) == 1:
            return opts[0][0]
        x = rng.random() * total
        for t, w in opts:
            x -= w
            if x < 0:
                return t
        return opts[-1][0]

    def options(self, word: str) -> list[tuple[Transformation, float]]:
        return [(t, w) for t, w in self.transformations if t.applies(word)]

    def _options_for(self, word: str) -> tuple[tuple[tuple[Transformation, float], ...], float]:
        """(options, total weight), computed only for words actually chosen."""
        found = self._word_options.get(word)
        if found is None:
            opts = tuple(self.options(word))
            found = (opts, sum(w for _, w in opts))
            if len(self._word_options) < 500_000:
                self._word_options[word] = found
        return found

    def _judge(self, token: str) -> int:
        """PROTECTED, FIXED, ALWAYS or INITIAL: what this recipe may do with a token."""
        if not token.isalpha():  # (letters only: neither protected nor a number)
            if is_protected_token(token):
                return PROTECTED
            if self._protect_numbers and has_digit(token):
                return FIXED
        if self.stopwords and token.casefold() in self.stopwords:
            return FIXED
        for t, _ in self.transformations:
            if t.applies(token):
                break
        else:
            return FIXED
        if self._protect_names:
            cap, acronym = name_flags(token)
            if acronym:
                return FIXED
            if cap:
                return INITIAL
        return ALWAYS

    def analyse(self, text: str) -> Analysis:
        """A text's chunks and rewritable words (capitalised words only sentence-initially), after NFC."""
        return self.analyser.analyse(text)

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, n-th word) of every rewritable word, as character offsets into nfc(text)."""
        a = self.analyse(text)
        starts = [0, *accumulate(len(c) + 1 for c in a.chunks)]
        return [(starts[ci] + s, starts[ci] + e, n) for ci, s, e, n in a.targets(self.analyser.statics)]

    def perturb_text(self, text: str, rng, rate: float | None = None) -> TextResult:
        """Rewrite ⌊rate × eligible⌉ (stochastically rounded, at least min_words) words; rng needs `random()`."""
        a = self.analyser.analyse(text)
        m = a.n_eligible
        rate = self.recipe.rate if rate is None else rate
        exact = rate * m
        k = int(exact) + (rng.random() < exact - int(exact))  # stochastic rounding: unbiased rate
        if rate > 0:
            k = min(m, max(k, self.recipe.min_words))
        if not k:
            return TextResult(a.text, a.n_words, m, ())
        chunks = list(a.chunks)
        statics, kernel = self.analyser.statics, self._kernel
        changes = []
        last, shift = -1, 0
        for rank in choose_k(m, k, rng):
            ci, start, end, nth = a.target(rank, statics)
            if ci != last:
                last, shift = ci, 0
            chunk = chunks[ci]
            word = chunk[start + shift : end + shift]
            new = kernel.edit(word, rng) if kernel is not None else None
            if new is None:
                new = self._pick(self._options_for(word), rng).apply(word, rng)
            new = nfc(new)
            if new != word:
                chunks[ci] = chunk[: start + shift] + new + chunk[end + shift :]
                shift += len(new) - len(word)
                changes.append((nth, word, new))
        return TextResult(nfc(" ".join(chunks)), a.n_words, m, tuple(changes))

    def sides_for(self, pair: Pair) -> tuple[bool, bool]:
        if pair.task in ("bitext", "invariance"):
            return True, False  # only the African-language side; the other is the untouched anchor
        return self.recipe.sides in ("both", "first"), self.recipe.sides in ("both", "second")

    @property
    def batch_kernel(self):
        """The numpy kernel for this recipe (vector.py), or None: built on first use (it imports numpy)."""
        if self._batch_kernel is False:
            from afroadv.perturb.vector import VectorKernel

            self._batch_kernel = VectorKernel.build(self)
        return self._batch_kernel

    def perturb_batch(self, pairs: list[Pair], seed: int) -> list[list[tuple[str, int, int] | None]]:
        """[(text, words, words changed) or None if untouched, for each side] for every pair.

        Every pair draws from its own stream, named by (seed, recipe, language, pair id), so a pair's
        result depends on nothing else in the batch. Texts the batch kernel takes are perturbed
        together; the rest word by word (perturb_text) from the pair's sequential stream."""
        keys = stream_keys((seed, self.recipe.name, self.lang.code), [p.id for p in pairs])
        by_task: dict[str, tuple[bool, bool]] = {}
        touch = []
        for p in pairs:
            t = by_task.get(p.task)
            if t is None:
                t = by_task[p.task] = self.sides_for(p)
            touch.append(t)
        out: list[list] = [[None, None] for _ in pairs]
        todo = [(i, side) for i, t in enumerate(touch) for side in (0, 1) if t[side]]
        kernel = self.batch_kernel
        if kernel is not None and todo:
            texts = [nfc(pairs[i].sentence2 if side else pairs[i].sentence1) for i, side in todo]
            done = kernel.run(texts, [keys[i] for i, _ in todo], [side for _, side in todo])
            for (i, side), r in zip(todo, done):
                if r is not None:
                    out[i][side] = (r[0], r[1], r[3])
            todo = [(i, side) for i, side in todo if out[i][side] is None]
        streams: dict[int, Stream] = {}
        if todo:
            need = sorted({i for i, _ in todo})
            streams = dict(zip(need, batch_streams([keys[i] for i in need], _FIRST_DRAWS)))
        for i, side in todo:  # (side 0 before side 1 of a pair: they share its stream in that order)
            r = self.perturb_text(pairs[i].sentence2 if side else pairs[i].sentence1, streams[i])
            out[i][side] = (r.text, r.n_words, len(r.changes))
        return out

