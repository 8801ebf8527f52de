"""Recipes (recipes/*.yaml) → Perturbers. A recipe is data: transformations with weights, a rate
(share of eligible words), the sides of a pair it touches, and what it never touches."""

from __future__ import annotations

import hashlib
import importlib
import math
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple, Sequence
from pathlib import Path

import yaml

from afroadv.data.pairs import ONE_SIDED_TASKS, Pair
from afroadv.errors import AfroadvError
from afroadv.langs import Language, registry
from afroadv.learned import canonical_code
from afroadv.perturb.analysis import ALWAYS, CONTEXT, FIXED, INITIAL, PROTECTED, Analysis, TextAnalyser
from afroadv.perturb.analysis import bound as bound_token
from afroadv.perturb.base import Transformation, build_transformation, registered
from afroadv.perturb.rng import Draws, draw, draw_bits, stream_keys
from afroadv.perturb.sentence import Site, Tokens
from afroadv.resources import recipes_dir
from afroadv.text import anchor_names, ends_sentence, has_digit, has_inner_capital, is_protected_token, name_flags, nfc, split_tokens
from afroadv.words import TextContext, word_classes

SIDES = ("both", "first", "second", "either")  # either: one side per pair, chosen by the seed among those it can change
EXPECTS = ("same", "decrease")  # what the recipe should do to a pair's similarity: keep it, or lower it (directional)
PROTECTABLE = {"numbers", "digits", "numerals", "urls", "emails", "mentions", "hashtags", "names", "stopwords", "compounds",
               "number_neighbours", "name_neighbours"}
# numbers: digits and number words (a typo in "biyu" changes the number); digits: digits only (translit
# spells a number word in Latin letters without changing its value); numerals: tokens written only in
# digits and a number's separators (24, 1,500 — not ف24, whose letter arabizi types as f24); number_neighbours: the words
# right beside a number too (code-switching "8 jaar" would need "8 years", "watanni biyu" "two months");
# name_neighbours: the word right before a name (jihar Borno would need "Borno State", not "state Borno")
# data a recipe needs for a language; the last three say why not through `refusal(lang)` in their module
DATA_REFUSALS = {"arabizi": "afroadv.perturb.arabizi", "geez_rows": "afroadv.perturb.homophones",
                 "orthography": "afroadv.perturb.orthography"}
REQUIREMENTS = {"keyboard", "lexicon", "variants", "negation", *DATA_REFUSALS}
WHOLE = 1 << 31  # `min_words: all`: a touched text has every eligible word rewritten, so rate is a share of texts
# what each requirement is, and how a language outside the registry would get it
MISSING = {
    "lexicon": ("a bilingual lexicon", "induce one from parallel text with `afroadv lexicon induce --src TEXT --eng "
                "ENGLISH --out {code}-eng.tsv`, put it in data/lexicons and register {code} in data/languages.yaml"),
    "keyboard": ("a keyboard layout", "declare one for {code} in data/languages.yaml (layouts: data/keyboards)"),
    "variants": ("spelling variants attested in the language's corpora",
                 "register {code} in data/languages.yaml and build data/variants (`python -m afroadv.build variants`)"),
    "negation": ("reviewed negation rules", "write data/negation/{code}.yaml (see data/negation/hau.yaml)"),
}


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
    min_words: int = 1  # per touched sentence, when it has an eligible word: no wasted pairs (WHOLE: all of them)
    sides: str = "both"
    languages: tuple[str, ...] | str = "all"
    scripts: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    protect: tuple[str, ...] = ("numbers", "urls", "emails", "mentions", "hashtags", "names")
    avoid_real_words: bool = False  # a typo that spells another word of the language is redrawn once, else dropped
    expect: str = "same"  # same: the gold score should hold (invariance); decrease: similarity should fall (directional)
    # directional: a gold-scored (STS) pair is eligible only with gold ≥ this share of the score scale
    # (a pair that was unrelated has no similarity to lose); unscored pairs (bitext, texts) always are
    min_gold: float = 0.0
    path: str = ""

    def params(self) -> dict:
        """Everything that determines the output, for manifests."""
        return {
            "rate": self.rate,
            "min_words": "all" if self.min_words == WHOLE else self.min_words,
            "sides": self.sides,
            "protect": list(self.protect),
            "avoid_real_words": self.avoid_real_words,
            **({"min_gold": self.min_gold} if self.min_gold else {}),
            "transformations": [{"kind": s.kind, "weight": s.weight, "params": s.params} for s in self.steps],
        }

    def require_invariance(self, use: str) -> Recipe:
        """This recipe, if it keeps meaning: attacks and augmentation need the gold score to hold, and a
        directional recipe (`expect: decrease`) changes meaning on purpose."""
        if self.expect != "same":
            raise AfroadvError(f"recipe {self.name!r} is a directional test (expect: {self.expect}): it changes meaning "
                               f"on purpose, so {use} cannot use it; evaluate it with `afroadv evaluate`")
        return self

    def check_task(self, task: str, dataset: str) -> None:
        """A directional recipe changes one side of a *pair* against the other: unpaired text
        (an invariance set) has no other side whose similarity could fall."""
        if self.expect == "decrease" and task == "invariance":
            raise AfroadvError(f"directional recipe {self.name!r} needs pairs (STS, bitext or ordinal); "
                               f"{dataset} is unpaired text")

    def supports(self, lang: Language) -> bool:
        return self.refusal(lang) is None

    @property
    def script_level(self) -> bool:
        """Runs on any language given with a dataset: needs no resource curated per language."""
        return not self.requires and not self._curated_kinds()

    def _curated_kinds(self) -> list[str]:
        """The transformation kinds that need rules curated per language (not `learnable`)."""
        known = registered()
        return list(dict.fromkeys(s.kind for s in self.steps if not getattr(known.get(s.kind), "learnable", False)))

    def refusal(self, lang: Language) -> str | None:
        """Why this recipe does not run on `lang` by default, or None."""
        if lang.learned is not None:
            why = self._learned_refusal(lang)
            if why:
                return why
        elif self.languages != "all" and lang.code not in self.languages:
            return f"recipe {self.name!r} is for {', '.join(self.languages)}"
        if self.scripts and lang.script not in self.scripts:
            return f"recipe {self.name!r} is for {', '.join(self.scripts)} script; {lang.code} is {lang.script}"
        if "keyboard" in self.requires and not lang.keyboard:
            return f"recipe {self.name!r} needs a keyboard layout; none is declared for {lang.code}"
        if "lexicon" in self.requires:
            from afroadv.perturb.codeswitch import MIN_LEXICON_PRECISION, lexicon_refusal

            floor = min((float(s.params.get("min_lexicon_precision", MIN_LEXICON_PRECISION)) for s in self.steps
                         if s.kind == "codeswitch"), default=0.0)  # fmt: skip
            why = lexicon_refusal(lang, floor)
            if why:
                return why
        if "negation" in self.requires:
            from afroadv.perturb.negation import negation_refusal

            why = negation_refusal(lang)
            if why:
                return why
        if "variants" in self.requires:
            from afroadv.perturb.lexsub import variants_refusal

            why = variants_refusal(lang)
            if why:
                return why
        for req in self.requires:
            if req in DATA_REFUSALS:
                why = importlib.import_module(DATA_REFUSALS[req]).refusal(lang)
                if why:
                    return why
        return None

    def _learned_refusal(self, lang: Language) -> str | None:
        """A language learned from its dataset has a script and letters, nothing curated: a recipe runs
        on it when it is script-level, when data keyed by code covers it (arabizi's regions), or when
        it names the language (its rules are keyed by code)."""
        outside = f"{lang.code} is outside the registry (learned from --dataset: script and letters only)"
        for req in self.requires:
            if req in DATA_REFUSALS:
                why = importlib.import_module(DATA_REFUSALS[req]).refusal(lang)
                if why:
                    return f"recipe {self.name!r}: {why}; {outside}"
            else:
                what, how = MISSING[req]
                return f"recipe {self.name!r} needs {what}; {outside}: {how.format(code=lang.code)}"
        if not self._curated_kinds() or (self.languages != "all" and lang.code in self.languages):
            return None
        return (f"recipe {self.name!r} ({', '.join(self._curated_kinds())}) needs rules curated for registered languages; {outside}: register "
                f"{lang.code} in data/languages.yaml, or use a script-level recipe")

    def supported_languages(self) -> list[str]:
        return [code for code, lang in registry().items() if self.supports(lang)]

    def perturber(self, lang: Language, rate: float | None = None, sides: str | None = None,
                  context: TextContext | None = None, set_texts: Sequence[str] | None = None,
                  score_scale: tuple[float, float] | None = None) -> Perturber:
        why = self.refusal(lang)
        if why and lang.learned is not None:
            from afroadv.learned import script_level_recipes

            raise AfroadvError(f"{why} (script-level recipes: {', '.join(script_level_recipes())})")
        if why:
            raise AfroadvError(f"{why} (recipe {self.name!r} supports: {', '.join(self.supported_languages()) or 'none'})")
        recipe = self
        if rate is not None or sides is not None:
            recipe = replace(self, rate=self.rate if rate is None else _rate(rate, "--rate"), sides=sides or self.sides)
            _check_sides(recipe.sides, "--sides")
        return Perturber(recipe, lang, context, set_texts, score_scale)


def _rate(value, where: str) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise AfroadvError(f"{where}: rate {value!r} is not a number") from None
    if not 0.0 <= r <= 1.0:
        raise AfroadvError(f"{where}: rate must be between 0 and 1, got {r}")
    return r


def _flag(value, where: str, name: str) -> bool:
    if not isinstance(value, bool):
        raise AfroadvError(f"{where}: `{name}` must be true or false, got {value!r}")
    return value


def _check_sides(sides: str, where: str) -> None:
    if sides not in SIDES:
        raise AfroadvError(f"{where}: sides must be one of {', '.join(SIDES)}, got {sides!r}")


def _text(raw: dict, key: str, where: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise AfroadvError(f"{where}: `{key}` must be non-empty text, got {value!r}")
    return value


def _names(value, where: str, key: str) -> tuple[str, ...]:
    """A list of names (a single name is accepted as a one-item list)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AfroadvError(f"{where}: `{key}` must be a list of names, got {value!r}")
    return tuple(value)


def _step(t, i: int, where: str) -> Step:
    at = f"{where}: transformation {i}"
    if not isinstance(t, dict) or "kind" not in t:
        raise AfroadvError(f"{at} needs a `kind` (a mapping with kind, weight, params)")
    unknown = set(t) - {"kind", "weight", "params"}
    if unknown:
        raise AfroadvError(f"{at}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    if not isinstance(t["kind"], str):
        raise AfroadvError(f"{at}: `kind` must be a name, got {t['kind']!r}")
    weight = t.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight <= 0:
        raise AfroadvError(f"{at} ({t['kind']}): `weight` must be a positive number, got {weight!r}")
    params = t.get("params") or {}
    if not isinstance(params, dict):
        raise AfroadvError(f"{at} ({t['kind']}): `params` must be a mapping, got {params!r}")
    return Step(t["kind"], float(weight), dict(params))


def parse_recipe(raw: dict, where: str) -> Recipe:
    """A recipe from its YAML mapping, every field checked: a one-line error names the field."""
    if not isinstance(raw, dict):
        raise AfroadvError(f"{where}: a recipe is a YAML mapping")
    unknown = set(raw) - {"name", "description", "transformations", "rate", "min_words", "sides", "languages", "scripts",
                          "requires", "protect", "avoid_real_words", "expect", "min_gold"}
    if unknown:
        raise AfroadvError(f"{where}: unknown recipe field(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("name", "description", "transformations"):
        if key not in raw:
            raise AfroadvError(f"{where}: recipe needs `{key}`")
    transformations = raw["transformations"]
    if not isinstance(transformations, list):
        raise AfroadvError(f"{where}: `transformations` must be a list, got {transformations!r}")
    steps = [_step(t, i, where) for i, t in enumerate(transformations, 1)]
    if not steps:
        raise AfroadvError(f"{where}: recipe has no transformations, so it can change nothing")
    protect = _names(raw.get("protect", list(Recipe.protect)), where, "protect")
    bad = set(protect) - PROTECTABLE
    if bad:
        raise AfroadvError(f"{where}: cannot protect {', '.join(sorted(bad))}; known: {', '.join(sorted(PROTECTABLE))}")
    requires = _names(raw.get("requires"), where, "requires")
    if set(requires) - REQUIREMENTS:
        raise AfroadvError(f"{where}: unknown requirement(s) {', '.join(sorted(set(requires) - REQUIREMENTS))}")
    langs = raw.get("languages", "all")
    sides = raw.get("sides", "both")
    _check_sides(sides, where)
    min_words = raw.get("min_words", 1)
    if min_words == "all":  # a message is rewritten whole (arabizi): n_to_change's floor is every eligible word
        min_words = WHOLE
    if isinstance(min_words, bool) or not isinstance(min_words, int) or not 0 <= min_words <= WHOLE:
        raise AfroadvError(f"{where}: `min_words` must be a whole number ≥ 0 or `all`, got {min_words!r}")
    rate = _rate(raw.get("rate", 0.15), where)
    expect = raw.get("expect", "same")
    if expect not in EXPECTS:
        raise AfroadvError(f"{where}: `expect` must be one of {', '.join(EXPECTS)}, got {expect!r}")
    if rate == 0:
        raise AfroadvError(f"{where}: rate 0 changes nothing")
    min_gold = raw.get("min_gold", 0.0)
    if isinstance(min_gold, bool) or not isinstance(min_gold, (int, float)) or not 0 <= min_gold <= 1:
        raise AfroadvError(f"{where}: `min_gold` must be a share of the gold scale between 0 and 1, got {min_gold!r}")
    if min_gold and expect != "decrease":
        raise AfroadvError(f"{where}: `min_gold` is for directional recipes (expect: decrease): it says which pairs can lose similarity")
    return Recipe(
        name=_text(raw, "name", where),
        description=_text(raw, "description", where).strip(),
        steps=tuple(steps),
        rate=rate,
        min_words=min_words,
        sides=sides,
        languages="all" if langs == "all" else tuple(canonical_code(c) for c in _names(langs, where, "languages")),
        scripts=_names(raw.get("scripts"), where, "scripts"),
        requires=requires,
        protect=protect,
        avoid_real_words=_flag(raw.get("avoid_real_words", False), where, "avoid_real_words"),
        expect=expect,
        min_gold=float(min_gold),
        path=where,
    )


@lru_cache(maxsize=None)
def _load_path(path: str) -> Recipe:
    p = Path(path)
    if p.is_dir():
        raise AfroadvError(f"recipe {p} is a folder, not a YAML file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise AfroadvError(f"{p}: invalid YAML ({str(e).splitlines()[0]})") from None
    except UnicodeDecodeError as e:
        raise AfroadvError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except FileNotFoundError:
        raise AfroadvError(f"recipe file not found: {p}") from None
    except OSError as e:
        raise AfroadvError(f"cannot read recipe {p}: {e.strerror}") from None
    return parse_recipe(raw, str(p))


def list_recipes() -> list[Recipe]:
    return [_load_path(str(p)) for p in sorted(recipes_dir().glob("*.yaml"))]


def recipes_for(lang: Language) -> list[Recipe]:
    """What `--recipe all` means: every invariance recipe (`expect: same`) the language supports.
    Directional recipes (`expect: decrease`) answer another question and are named explicitly."""
    return [r for r in list_recipes() if r.expect == "same" and r.supports(lang)]


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


def is_numeral(token: str) -> bool:
    """A token written only in digits and a number's separators (24, 1,500, 3.5, 10%)."""
    return has_digit(token) and all(c.isdigit() or c in ".,:/%-+'٫٬" for c in token)


def derived_rng(*parts) -> random.Random:
    """A random.Random named by its parts: for augmentation, attacks and sampling, where the full
    random API matters more than the cost of seeding (generation uses addressed draws instead)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode("utf-8"), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))


# Where each draw of a text lives in its pair's stream (draws are addressed, not sequential, so the
# plain path below and the numpy kernel in vector.py compute the same ones):
#   side_base(side) + 0                        decides how many words change (n_to_change)
#   side_base(side) + 1 + i                    sort key of eligible word i: the k smallest change
#   side_base(side) + EDIT_SLOT + STRIDE·i + j the j-th draw of eligible word i's edit: attempt a
#                                              (a second when the first spelled a real word) uses
#                                              j = ATTEMPT·a … ATTEMPT·a + 3
SIDE_SLOT = 1 << 40
EDIT_SLOT = 1 << 24  # above the sort keys of any text afroadv perturbs (< 2**24 characters)
GAP_SLOT = 1 << 36  # side_base(side) + GAP_SLOT (+1 …): whether (and how) a text's punctuation is restyled
STRIDE = 8  # draws one word may use
ATTEMPT = 4  # draws one edit attempt may use: the transformation choice, then its own


EITHER_SLOT = 0  # below every side's block: the coin of `sides: either`


def side_base(side: int) -> int:
    return (side + 1) * SIDE_SLOT


def n_to_change(rate: float, m: int, min_words: int, u: float) -> int:
    """How many of m eligible words to rewrite, from one uniform draw u: rate × m in expectation,
    and never fewer than min(m, min_words) when any. A text too short to deserve min_words at this
    rate is touched with probability rate × m / min_words instead, so the floor does not inflate
    the realised rate."""
    if m == 0 or rate <= 0.0:
        return 0
    x = rate * m
    floor = min(m, min_words)
    if floor <= 0 or x >= floor:
        whole = int(x)
        return whole + (u < x - whole)
    return floor if u < x / floor else 0


def chosen_ranks(key: int, base: int, m: int, k: int) -> list[int]:
    """The k eligible words (by rank) with the smallest sort keys, ascending (ties: earlier first)."""
    if k >= m:
        return list(range(m))
    if k == 0:
        return []
    order = sorted(range(m), key=lambda i: (draw_bits(key, base + 1 + i) >> 24, i))
    return sorted(order[:k])


class Perturber:
    """A recipe bound to a language: rewrites a share of the eligible words of a text."""

    def __init__(self, recipe: Recipe, lang: Language, context: TextContext | None = None,
                 set_texts: Sequence[str] | None = None, score_scale: tuple[float, float] | None = None):
        self.recipe = recipe
        self.lang = lang
        self.context = context
        low, high = score_scale or (0.0, 1.0)  # (SemRel's scale when the set gives none)
        self.min_gold_score = low + recipe.min_gold * (high - low) if recipe.min_gold else None
        built = [(build_transformation(s.kind, lang, s.params), s.weight) for s in recipe.steps]
        self.transformations: list[tuple[Transformation, float]] = [(t, w) for t, w in built if w > 0]
        self.sentence_edits = [t for t, _ in self.transformations if t.sentence_level]
        if self.sentence_edits and len(self.sentence_edits) != len(self.transformations):
            raise AfroadvError(f"recipe {recipe.name!r} mixes sentence edits ({', '.join(t.kind for t in self.sentence_edits)}) "
                               "with word transformations; a recipe is one or the other")  # fmt: skip
        draws_from_set = any(t.draws_from_set for t, _ in self.transformations)
        self.reads_record = draws_from_set or bool(self.sentence_edits)  # they avoid the record's own words
        if draws_from_set and set_texts is None:
            raise AfroadvError(f"recipe {recipe.name!r} draws words from the rest of a set: use it on a whole set "
                               "(generate, evaluate), not on single texts")  # fmt: skip
        protect = set(recipe.protect)
        self.words = (lang.learned.words if lang.learned else word_classes(lang.code)).with_context(context)
        self.stopwords = (self.words.function | lang.stopword_set()) if "stopwords" in protect else frozenset()
        self._protect_numbers = "numbers" in protect
        self._protect_digits = self._protect_numbers or "digits" in protect
        self._protect_numerals = "numerals" in protect
        self._protect_names = "names" in protect
        self._protect_compounds = "compounds" in protect
        self._protect_beside_numbers = "number_neighbours" in protect
        self._protect_before_names = "name_neighbours" in protect
        self._word_options: dict[str, tuple[tuple[tuple[Transformation, float], ...], float]] = {}
        self._compound_heads = frozenset().union(*(getattr(t, "compound_heads", frozenset()) for t, _ in self.transformations))
        in_context = ((self._protect_names and bool(self.words.multi_names)) or self._protect_beside_numbers
                      or self._protect_before_names or bool(self._compound_heads))
        self.analyser = TextAnalyser(self._judge, None, self._in_context if in_context else None)
        self.rewrites_gaps = any(type(t).rewrite_gap is not Transformation.rewrite_gap for t, _ in self.transformations)
        self.reads_anchor = any(t.reads_anchor for t, _ in self.transformations)
        self.gap_stylers = [t for t, _ in self.transformations if t.styles_gaps]
        self._batch_kernel = False  # not built yet
        self.set_words = None
        for t in self.sentence_edits:
            if t.learns_from_set and set_texts is not None:
                t.learn_set([nfc(x) for x in set_texts])
        if draws_from_set:
            from afroadv.perturb.wordswap import SetWords

            self.set_words = SetWords.count(self._rewritable_words(set_texts))
            for t, _ in self.transformations:
                t.bind_set(self.set_words)

    def _rewritable_words(self, texts: Sequence[str]):
        """Every word of `texts` this recipe may rewrite (the pool a set-drawing transformation draws from)."""
        for text in texts:
            a = self.analyse(text)
            for start, end, _ in self.spans(text):
                yield a.text[start:end]

    @property
    def resource_versions(self) -> dict[str, str]:
        """Versions of every data file the output depends on (lexicons, letters, variants, word lists)."""
        out: dict[str, str] = {}
        for t, _ in self.transformations:
            out.update(t.resource_versions)
        if self.words.version:
            out["words"] = f"{self.lang.code}@{self.words.version}"
        return out

    @staticmethod
    def _pick(found: tuple[tuple[tuple[Transformation, float], ...], float], u: float) -> Transformation:
        """A transformation among those that apply, in proportion to its weight (u uniform)."""
        opts, total = found
        x = u * total
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

    def _judge(self, token: str, bound: bool = False, multi: bool = True) -> int:
        """PROTECTED, FIXED, ALWAYS, INITIAL or CONTEXT: what this recipe may do with a token.

        Names: acronyms, words with a capital inside (uZuma, eThekwini, iPhone) and capitalised
        words inside a sentence are left alone; a capitalised word at a sentence start only if it
        is a known common word and not a known name. In scripts without case (Ge'ez, Arabic) names
        come from lists, and the first word of a multi-word name (አዲስ አበባ) is decided in context."""
        k = token.casefold()
        words = self.words
        if not token.isalpha():  # (letters only: neither protected nor a number)
            if is_protected_token(token):
                return PROTECTED
            if (self._protect_digits and has_digit(token)) or (self._protect_numerals and is_numeral(token)):
                return CONTEXT if self._protect_beside_numbers and multi else FIXED
        if self._protect_numbers and words.is_number(k):
            return CONTEXT if self._protect_beside_numbers and multi else FIXED
        if k in self._compound_heads:
            return CONTEXT if multi else FIXED  # fixed itself, and the noun after it is part of a compound
        if k in self.stopwords or (bound and self._protect_compounds):
            return FIXED
        cased = token.lower() != token.upper()
        if multi and self._protect_before_names and (token[:1].isupper() or (not cased and self._is_name(k))):
            return CONTEXT  # a name (or a capital at a sentence start): its neighbour is decided in context
        if multi and self._protect_names and not cased and words.multi_names:
            if (k.translate(words.homophones) if words.homophones else k) in words.multi_names:
                return CONTEXT  # the words after it may be the rest of a name, rewritable or not
        for t, _ in self.transformations:
            if t.applies(token):
                break
        else:
            return FIXED
        if self._protect_names:
            if cased:
                cap, acronym = name_flags(token)
                if acronym or has_inner_capital(token):
                    return FIXED
                if cap:
                    return INITIAL if k in words.common and k not in words.names else FIXED
            else:
                if (k.translate(words.homophones) if words.homophones else k) in words.names:
                    return FIXED
        return ALWAYS

    def _is_number(self, token: str) -> bool:
        return has_digit(token) or self.words.is_number(token.casefold())

    def _is_name(self, key: str) -> bool:
        """A casefolded word of a script without case that a name list holds (alone or first of several)."""
        name = key.translate(self.words.homophones) if self.words.homophones else key
        return name in self.words.names or name in self.words.multi_names

    def _in_context(self, tokens: list[str], gaps: list[str], kinds: list[int]) -> list[int]:
        """Multi-word names in scripts without case: every word of a listed name is left alone; and,
        where the recipe says so, the words right beside a number."""
        kinds = list(kinds)
        n = len(tokens)
        for j, tok in enumerate(tokens):
            if kinds[j] != CONTEXT:
                continue
            length = 0
            name_key = self.words.name_key
            for tail in self.words.multi_names.get(name_key(tok), ()):
                end = j + 1 + len(tail)
                if end <= n and all(gaps[q].isspace() and name_key(tokens[q]) == w
                                    for q, w in zip(range(j + 1, end), tail)):  # fmt: skip
                    length = len(tail)
                    break
            if length:
                kinds[j : j + 1 + length] = [FIXED] * (1 + length)
            else:
                kinds[j] = self._judge(tok, bound_token(gaps[j], gaps[j + 1], tok), multi=False)
        if self._protect_beside_numbers:
            for j, tok in enumerate(tokens):
                if kinds[j] == FIXED and self._is_number(tok):
                    for q, gap in ((j - 1, gaps[j]), (j + 1, gaps[j + 1])):
                        if 0 <= q < n and gap.isspace() and kinds[q] != PROTECTED:
                            kinds[q] = FIXED
        if self._compound_heads:
            for j, tok in enumerate(tokens[:-1]):
                if tok.casefold() in self._compound_heads and gaps[j + 1].isspace() and kinds[j + 1] != PROTECTED:
                    kinds[j + 1] = FIXED
        if self._protect_before_names:
            initial = True
            for j, tok in enumerate(tokens):
                initial = initial or ends_sentence(gaps[j])
                cased = tok.lower() != tok.upper()
                name = (not initial and tok[:1].isupper()) if cased else self._is_name(tok.casefold())
                if name and j and gaps[j].isspace() and kinds[j - 1] != PROTECTED:
                    kinds[j - 1] = FIXED
                initial = False
        return kinds

    def analyse(self, text: str) -> Analysis:
        """A text's chunks and rewritable words (capitalised words only sentence-initially), after NFC."""
        return self.analyser.analyse(text)

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, n-th word) of every rewritable word, as character offsets into nfc(text)."""
        a = self.analyse(text)
        starts = [0, *accumulate(len(c) + 1 for c in a.chunks)]
        return [(starts[ci] + s, starts[ci] + e, n) for ci, s, e, n in a.targets(self.analyser.statics)]

    def spells_another_word(self, word: str, new: str) -> bool:
        """With `avoid_real_words`: does this edit spell another known word of the language (water →
        town)? Such an edit changes meaning, not spelling: generate redraws it, the attack skips it."""
        return self.recipe.avoid_real_words and new != word and new.casefold() in self.words.common

    def edit_word(self, word: str, key: int, slot: int, anchor_names: tuple[str, ...] = (),
                  own: frozenset[str] = frozenset()) -> str:
        """One eligible word rewritten: a transformation chosen by weight (always one draw), then its
        edit, from the draws at `slot`. With `avoid_real_words`, an edit that spells another known
        word of the language (water → town) is drawn again once, and the word is left if that fails too."""
        for attempt in range(2 if self.recipe.avoid_real_words else 1):
            draws = Draws(key, slot + ATTEMPT * attempt)
            t = self._pick(self._options_for(word), draws.random())
            if t.draws_from_set:
                new = nfc(t.apply_in_record(word, draws, own))
            else:
                new = nfc(t.apply_beside(word, draws, anchor_names) if anchor_names and t.reads_anchor else t.apply(word, draws))
            if not self.spells_another_word(word, new):
                return new
        return word

    def perturb_text(self, text: str, key: int, side: int = 0, rate: float | None = None, anchor: str = "",
                     own: frozenset[str] = frozenset(), other: str | None = None) -> TextResult:
        """The recipe's rule for one text, stated plainly: n_to_change words among the eligible ones,
        the chosen words by sort key, each edited from its own block of the stream `key`. `anchor`
        is the untouched other side of a bitext pair (translit spells names as it does); `own` the
        record's words, which a transformation drawing from the set never brings in; `other` the
        other side of the text's pair (pair-aware sentence edits change only what it shares; None:
        a text alone, every site counts)."""
        if self.sentence_edits:
            return self.edit_sentence(text, key, side, self.recipe.rate if rate is None else rate, own, other)
        a = self.analyser.analyse(text)
        m = a.n_eligible
        base = side_base(side)
        k = n_to_change(self.recipe.rate if rate is None else rate, m, self.recipe.min_words, draw(key, base))
        if not k:
            return TextResult(self.restyle_gaps(a.text, key, side, rate), a.n_words, m, ())
        chunks = list(a.chunks)
        statics = self.analyser.statics
        names = anchor_names(anchor) if anchor and self.reads_anchor else ()
        changes = []
        last, shift = -1, 0
        for rank in chosen_ranks(key, base, m, k):
            ci, start, end, nth = a.target(rank, statics)
            if ci != last:
                last, shift = ci, 0
            chunk = chunks[ci]
            word = chunk[start + shift : end + shift]
            new = self.edit_word(word, key, base + EDIT_SLOT + STRIDE * rank, names, own)
            if new != word:
                chunks[ci] = chunk[: start + shift] + new + chunk[end + shift :]
                shift += len(new) - len(word)
                changes.append((nth, word, new))
        out = " ".join(chunks)
        if changes and self.rewrites_gaps:
            out = self.rewrite_gaps(out)
        return TextResult(self.restyle_gaps(nfc(out), key, side, rate), a.n_words, m, tuple(changes))

    def sentence_sites(self, text: str, other: str | None = None) -> list[tuple[Transformation, Site]]:
        """Every place a sentence edit of this recipe could change the (NFC) text, in text order per
        edit; with the pair's `other` side, a pair-aware edit's shared sites only (sentence.py)."""
        toks = Tokens.of(nfc(text))
        if other is None:
            return [(t, s) for t in self.sentence_edits for s in t.sites(toks)]
        theirs = Tokens.of(nfc(other))
        return [(t, s) for t in self.sentence_edits for s in t.shared_sites(toks, theirs)]

    def edit_sentence(self, text: str, key: int, side: int, rate: float, own: frozenset[str],
                      other: str | None = None) -> TextResult:
        """The rule for sentence edits: a text with at least one site is edited with probability
        `rate` (draw side_base), at one site (draw side_base + 1), from the block at EDIT_SLOT. It
        counts as one eligible unit and, when changed, one change — so the realised rate is the
        share of eligible sentences changed. In a pair (`other`), the new content is none the pair holds."""
        text = nfc(text)
        n_words = self.analyse(text).n_words
        sites = self.sentence_sites(text, other)
        base = side_base(side)
        if not sites or draw(key, base) >= rate:
            return TextResult(text, n_words, int(bool(sites)), ())
        t, site = sites[int(draw(key, base + 1) * len(sites))]
        toks = Tokens.of(text)
        avoid = t.text_keys(toks) | t.text_keys(Tokens.of(nfc(other))) if other is not None and t.pair_aware else frozenset()
        new = t.edit(toks, site, Draws(key, base + EDIT_SLOT), own, avoid)
        old = toks.span(site.start, site.end)
        if new is None or nfc(new) == old:
            return TextResult(text, n_words, 1, ())
        return TextResult(nfc(toks.replaced(site.start, site.end, new)), n_words, 1, ((site.start, old, nfc(new)),))

    def rewrite_gaps(self, text: str) -> str:
        """Every transformation's `rewrite_gap` on the text between words (translit's punctuation)."""
        parts = split_tokens(text)
        for t, _ in self.transformations:
            parts[0::2] = [t.rewrite_gap(g) if g else g for g in parts[0::2]]
        return "".join(parts)

    def restyle_gaps(self, text: str, key: int, side: int = 0, rate: float | None = None) -> str:
        """Punctuation restyled (orthography: Amharic ። → ::) in a share `rate` of texts, words
        rewritten or not: one draw per text decides, the next ones choose the style. Words never
        change here, and a gap between two words never closes."""
        if not self.gap_stylers:
            return text
        slot = side_base(side) + GAP_SLOT
        if draw(key, slot) >= (self.recipe.rate if rate is None else rate):
            return text
        parts = split_tokens(text)
        gaps, tokens = parts[0::2], parts[1::2]
        rng = Draws(key, slot + 1)
        for t in self.gap_stylers:
            new = t.restyle_gaps(gaps, tokens, rng)
            gaps = [g if (n == "" and 0 < i < len(tokens)) else n for i, (g, n) in enumerate(zip(gaps, new))]
        parts[0::2] = gaps
        return nfc("".join(parts))

    def sides_for(self, pair: Pair) -> tuple[bool, bool]:
        """The sides the recipe may touch; with `either`, both (`pick_side` then keeps one per pair)."""
        if pair.task in ONE_SIDED_TASKS:
            return True, False  # only the African-language side; the other is the untouched anchor
        return self.recipe.sides in ("both", "first", "either"), self.recipe.sides in ("both", "second", "either")

    def n_sites(self, text: str, other: str | None = None) -> int:
        """How many places of a text the recipe could change (its eligible words, or its sentence-edit
        sites; in a pair with `other`, a pair-aware edit's shared ones)."""
        return len(self.sentence_sites(text, other)) if self.sentence_edits else self.analyse(text).n_eligible

    def gold_eligible(self, pair: Pair) -> bool:
        """Whether the recipe's `min_gold` lets it touch the pair: a gold-scored STS pair needs gold ≥
        min_gold of the scale, and so does an ordinal pair (its level on 0–2); unscored pairs (bitext,
        invariance texts) always may."""
        return (self.min_gold_score is None or pair.task not in ("sts", "ordinal") or pair.score is None
                or pair.score >= self.min_gold_score)

    @staticmethod
    def other_side(pair: Pair, side: int) -> str | None:
        """The other sentence of the pair a side belongs to (None when empty: a text alone)."""
        return (pair.sentence1 if side else pair.sentence2) or None

    def pick_side(self, pair: Pair, key: int) -> tuple[bool, bool]:
        """`sides: either` for a pair with two rewritable sides: the one side to change — a coin
        (draw EITHER_SLOT of the pair's stream) when both sides can change, else the one that can."""
        first = self.n_sites(pair.sentence1, self.other_side(pair, 0)) > 0
        second = self.n_sites(pair.sentence2, self.other_side(pair, 1)) > 0
        if first and second:
            return (True, False) if draw(key, EITHER_SLOT) < 0.5 else (False, True)
        return first or not second, second and not first

    @staticmethod
    def record_words(pair: Pair) -> frozenset[str]:
        """A record's own words, casefolded (both sides): what a transformation drawing from the set avoids."""
        return frozenset(w.casefold() for t in (pair.sentence1, pair.sentence2) for w in split_tokens(nfc(t))[1::2])

    @property
    def batch_kernel(self):
        """The numpy kernel for this recipe (vector.py), or None: built on first use (it imports numpy)."""
        if self._batch_kernel is False:
            from afroadv.perturb.vector import VectorKernel

            self._batch_kernel = VectorKernel.build(self)
        return self._batch_kernel

    def perturb_batch(self, pairs: list[Pair], seed: int) -> list[list[tuple[str, int, int, int] | None]]:
        """[(text, words, eligible, words changed) or None if untouched, for each side] for every pair.

        Every pair draws from its own stream, named by (seed, recipe, language, pair id), so a pair's
        result depends on nothing else in the batch. Texts the batch kernel takes are perturbed
        together; the rest one by one (perturb_text) — the same rule, so the same result."""
        keys = stream_keys((seed, self.recipe.name, self.lang.code), [p.id for p in pairs])
        by_task: dict[str, tuple[bool, bool]] = {}
        touch = []
        for p, key in zip(pairs, keys):
            t = by_task.get(p.task)
            if t is None:
                t = by_task[p.task] = self.sides_for(p)
            if not self.gold_eligible(p):
                touch.append((False, False))
            else:
                touch.append(self.pick_side(p, key) if all(t) and self.recipe.sides == "either" else t)
        out: list[list] = [[None, None] for _ in pairs]
        todo = [(i, side) for i, t in enumerate(touch) for side in (0, 1) if t[side]]
        kernel = self.batch_kernel
        if kernel is not None and todo:
            texts = [nfc(pairs[i].sentence2 if side else pairs[i].sentence1) for i, side in todo]
            done = kernel.run(texts, [keys[i] for i, _ in todo], [side for _, side in todo])
            for (i, side), r in zip(todo, done):
                if r is not None:
                    out[i][side] = r
            todo = [(i, side) for i, side in todo if out[i][side] is None]
        for i, side in todo:
            p = pairs[i]
            anchor = (p.sentence1 if side else p.sentence2) if p.task in ONE_SIDED_TASKS else ""
            own = self.record_words(p) if self.reads_record else frozenset()
            r = self.perturb_text(p.sentence2 if side else p.sentence1, keys[i], side, anchor=anchor, own=own,
                                  other=self.other_side(p, side))
            out[i][side] = (r.text, r.n_words, r.n_eligible, len(r.changes))
        return out
