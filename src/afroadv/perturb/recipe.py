"""Recipes (recipes/*.yaml) → Perturbers. A recipe is data: transformations with weights, a rate
(share of eligible words), the sides of a pair it touches, and what it never touches."""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple
from pathlib import Path

import yaml

from afroadv.data.pairs import Pair
from afroadv.errors import AfroadvError
from afroadv.langs import Language, get_language, registry
from afroadv.perturb.base import Transformation, build_transformation
from afroadv.resources import recipes_dir
from afroadv.text import ends_sentence, has_digit, is_protected_token, name_flags, nfc, split_tokens

SIDES = ("both", "first", "second")
PROTECTABLE = {"numbers", "urls", "emails", "mentions", "hashtags", "names", "stopwords"}
REQUIREMENTS = {"keyboard", "lexicon", "variants"}


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
    """A random stream named by its parts (seed, recipe, pair id, side): independent of processing order."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode("utf-8"), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


@lru_cache(maxsize=4096)
def _total_weight(opts) -> float:
    return sum(w for _, w in opts)


def choose_k(n: int, k: int, rng: random.Random) -> list[int]:
    """k distinct indices of range(n), ascending (a partial Fisher–Yates: cheaper than random.sample)."""
    idx = list(range(n))
    rand = rng.random
    for j in range(k):
        r = j + int(rand() * (n - j))
        idx[j], idx[r] = idx[r], idx[j]
    return sorted(idx[:k])


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
        # words repeat, so each is judged once
        self._word_info: dict[str, tuple[bool, bool, bool, bool]] = {}
        self._word_options: dict[str, tuple[tuple[Transformation, float], ...]] = {}
        self._gap_ends: dict[str, bool] = {}
        # text -> (tokens, eligible positions, word positions): a text perturbed again (other seeds,
        # K augmented copies, attack candidates) is analysed once
        self._analysis: dict[str, tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]] = {}

    @property
    def resource_versions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for t, _ in self.transformations:
            out.update(t.resource_versions)
        return out

    @staticmethod
    def _pick(opts: tuple[tuple[Transformation, float], ...], rng: random.Random) -> Transformation:
        if len(opts) == 1:
            return opts[0][0]
        x = rng.random() * _total_weight(opts)
        for t, w in opts:
            x -= w
            if x < 0:
                return t
        return opts[-1][0]

    def options(self, word: str) -> list[tuple[Transformation, float]]:
        return [(t, w) for t, w in self.transformations if t.applies(word)]

    def _info(self, token: str) -> tuple[bool, bool, bool, bool]:
        """(blocked, capitalised, acronym, some transformation applies), judged once per word."""
        info = self._word_info.get(token)
        if info is None:
            if is_protected_token(token):
                info = (True, False, False, False)
            else:
                blocked = (self._protect_numbers and has_digit(token)) or (
                    bool(self.stopwords) and token.casefold() in self.stopwords
                )
                cap, acronym = name_flags(token) if self._protect_names else (False, False)
                applies = not blocked and any(t.applies(token) for t, _ in self.transformations)
                info = (blocked, cap, acronym, applies)
            if len(self._word_info) < 500_000:
                self._word_info[token] = info
        return info

    def _options_for(self, word: str) -> tuple[tuple[Transformation, float], ...]:
        """All transformations that apply, computed only for words actually chosen."""
        opts = self._word_options.get(word)
        if opts is None:
            opts = tuple(self.options(word))
            if len(self._word_options) < 500_000:
                self._word_options[word] = opts
        return opts

    def _eligible(self, parts: list[str]) -> list[int]:
        """Indices into `parts` (odd: tokens) of the words this recipe may rewrite."""
        eligible = []
        initial = True
        gap_ends = self._gap_ends
        for i in range(1, len(parts), 2):
            gap = parts[i - 1]
            ends = gap_ends.get(gap)
            if ends is None:
                ends = gap_ends[gap] = ends_sentence(gap)
            initial = initial or ends
            blocked, cap, acronym, applies = self._info(parts[i])
            if applies and not (acronym or (cap and not initial)):
                eligible.append(i)
            initial = False
        return eligible

    def analyse(self, text: str) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]:
        found = self._analysis.get(text)
        if found is None:
            parts = split_tokens(nfc(text))
            words = tuple(i for i in range(1, len(parts), 2) if not is_protected_token(parts[i]))
            found = (tuple(parts), tuple(self._eligible(parts)), words)
            if len(self._analysis) >= 200_000:
                self._analysis.clear()
            self._analysis[text] = found
        return found

    def perturb_text(self, text: str, rng: random.Random, rate: float | None = None) -> TextResult:
        frozen_parts, eligible, word_positions = self.analyse(text)
        rate = self.recipe.rate if rate is None else rate
        exact = rate * len(eligible)
        k = int(exact) + (rng.random() < exact - int(exact))  # stochastic rounding: unbiased rate
        if rate > 0:
            k = min(len(eligible), max(k, self.recipe.min_words))
        if not k:
            return TextResult("".join(frozen_parts), len(word_positions), len(eligible), ())
        parts = list(frozen_parts)
        changes = []
        for i in (eligible[j] for j in choose_k(len(eligible), k, rng)):
            word = parts[i]
            t = self._pick(self._options_for(word), rng)
            new = nfc(t.apply(word, rng))
            if new != word:
                parts[i] = new
                # report the n-th word of the text, not the position in `parts`
                changes.append((bisect.bisect_left(word_positions, i), word, new))
        return TextResult(nfc("".join(parts)), len(word_positions), len(eligible), tuple(changes))

    def sides_for(self, pair: Pair) -> tuple[bool, bool]:
        if pair.task in ("bitext", "invariance"):
            return True, False  # only the African-language side; the other is the untouched anchor
        return self.recipe.sides in ("both", "first"), self.recipe.sides in ("both", "second")

    def perturb_pair(self, pair: Pair, seed: int) -> tuple[Pair, TextResult | None, TextResult | None]:
        """One RNG stream per pair, derived from (seed, recipe, language, pair id): order-independent."""
        touch1, touch2 = self.sides_for(pair)
        rng = derived_rng(seed, self.recipe.name, self.lang.code, pair.id)
        r1 = self.perturb_text(pair.sentence1, rng) if touch1 else None
        r2 = self.perturb_text(pair.sentence2, rng) if touch2 else None
        new = replace(pair, sentence1=r1.text if r1 else pair.sentence1, sentence2=r2.text if r2 else pair.sentence2)
        return new, r1, r2
