"""Seeded training-data augmentation for `afroadv train`: each English training pair keeps its
gold score and gains K perturbed copies.

- `rs-da` — randomized smoothing with data augmentation (Huang et al. 2021, Robust-XLT): in both
  sentences, every word that has counter-fitted neighbours (data/robust-xlt) is replaced by a
  uniform draw from {itself} ∪ its neighbours.
- `codeswitch-aug` — multilingual code-switching: each copy picks one target language from
  `langs`, and a share (`switch_rate`) of the English content words that the shipped lexicon can
  translate (data/lexicons, English → X direction) are replaced by a translation.
- `plain` — no copies of its own; with `recipes` it gets K recipe-perturbed copies.

Any afroadv recipe (recipes/*.yaml) can be stacked on the copies: after the method's own change,
each recipe's perturber for the copy's language (English for plain / rs-da, the target language
for codeswitch-aug) rewrites the copy. A recipe that does not support a copy's language leaves
that copy alone; one that supports none of the copies' languages is an error.

Every random choice comes from a stream named by (seed, method, pair id, copy index, ...) —
`derived_rng` for the methods, `stream_key` for the recipes: the same seed
gives the same copies whatever the order or subset of pairs, another seed gives other copies.
Nothing here imports torch.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from afroadv.data.pairs import Pair
from afroadv.errors import AfroadvError
from afroadv.langs import get_language, load_stopwords
from afroadv.lexicons.store import load_lexicon
from afroadv.options import check_float
from afroadv.perturb.recipe import Perturber, derived_rng, load_recipe
from afroadv.perturb.rng import stream_key
from afroadv.resources import data_dir, sha256_file, shared_data_dir
from afroadv.text import has_digit, is_protected_token, match_case, nfc, split_tokens

METHODS = ("plain", "rs-da", "codeswitch-aug")
DEFAULT_LANGS = ("afr", "amh", "hau", "kin")
NEIGHBOURS_FILE = Path("robust-xlt") / "counterfitted_neighbors.json"


# ----------------------------------------------------------------------------- neighbour sets


@dataclass(frozen=True)
class Neighbours:
    """Lower-cased English word → its counter-fitted neighbours (words without any are left out)."""

    table: dict[str, tuple[str, ...]]
    path: str
    version: str

    def __len__(self) -> int:
        return len(self.table)

    def get(self, word: str) -> tuple[str, ...]:
        return self.table.get(word.casefold(), ())


def neighbours_path() -> Path:
    """The shipped file, else the maintainers' ../shared/data copy."""
    shipped = data_dir() / NEIGHBOURS_FILE
    if shipped.is_file():
        return shipped
    shared = shared_data_dir()
    if shared is not None and (shared / NEIGHBOURS_FILE).is_file():
        return shared / NEIGHBOURS_FILE
    return shipped


@lru_cache(maxsize=4)
def load_neighbours(path: str | None = None) -> Neighbours:
    p = Path(path) if path else neighbours_path()
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AfroadvError(f"neighbour sets not found: {p} (rs-da needs data/{NEIGHBOURS_FILE.as_posix()})") from None
    except (OSError, ValueError) as e:
        raise AfroadvError(f"cannot read neighbour sets {p}: {e}") from None
    if not isinstance(raw, dict):
        raise AfroadvError(f"{p}: neighbour sets must be a JSON object word -> [neighbours]")
    table = {}
    for word, nbrs in raw.items():
        if not isinstance(nbrs, list):
            raise AfroadvError(f"{p}: neighbours of {word!r} must be a list")
        # one-token neighbours only, so a replacement never changes the word count
        keep = tuple(dict.fromkeys(nfc(n.casefold()) for n in nbrs
                                   if isinstance(n, str) and n and split_tokens(n)[1::2] == [n] and n.casefold() != word))
        if keep:
            table[nfc(word.casefold())] = keep
    return Neighbours(table, str(p), f"counterfitted_neighbors@{sha256_file(p)[:12]}")


# ----------------------------------------------------------------------------- text rewrites


def rsda_text(text: str, neighbours: Neighbours, rng) -> tuple[str, int]:
    """Every word with neighbours → uniform draw from {word} ∪ neighbours (may draw itself).

    Returns the new text and how many words changed. Spacing and punctuation are kept exactly."""
    parts = split_tokens(nfc(text))
    changed = 0
    for i in range(1, len(parts), 2):
        word = parts[i]
        if is_protected_token(word):
            continue
        nbrs = neighbours.get(word)
        if not nbrs:
            continue
        j = int(rng.random() * (len(nbrs) + 1))  # 0 = the word itself
        if j:
            parts[i] = match_case(word, nbrs[j - 1])
            changed += 1
    return "".join(parts), changed


def _english_stopwords() -> frozenset[str]:
    return load_stopwords("eng")


def codeswitch_candidates(text: str, lexicon) -> tuple[list[str], list[int]]:
    """Token list and the positions of English content words the lexicon translates.

    Skipped: stop words (their induced translations are noise), words with digits, protected spans
    and capitalised words inside the sentence (names)."""
    parts = split_tokens(nfc(text))
    stop = _english_stopwords()
    eligible = []
    for n, i in enumerate(range(1, len(parts), 2)):
        w = parts[i]
        if is_protected_token(w) or has_digit(w) or w.casefold() in stop:
            continue
        if n > 0 and w[:1].isupper():
            continue
        if lexicon.translate_english(w):
            eligible.append(i)
    return parts, eligible


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


def codeswitch_text(text: str, lexicon, rate: float, rng, top_k: int = 2) -> tuple[str, int]:
    """Replace a share `rate` of the translatable English words by one of their `top_k` most
    frequent translations (stochastic rounding of rate × eligible, at least one when any)."""
    parts, eligible = codeswitch_candidates(text, lexicon)
    if not eligible or rate <= 0:
        return "".join(parts), 0
    exact = rate * len(eligible)
    k = int(exact) + (rng.random() < exact - int(exact))
    k = min(len(eligible), max(1, k))
    changed = 0
    for j in choose_k(len(eligible), k, rng):
        i = eligible[j]
        options = lexicon.translate_english(parts[i])[:top_k]
        new = options[int(rng.random() * len(options))]
        if new != parts[i].casefold():
            parts[i] = match_case(parts[i], new)
            changed += 1
    return nfc("".join(parts)), changed


# ----------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class TrainPair:
    """One training example: an original (copy 0) or its k-th augmented copy; `score` is the gold
    score of the original, unchanged."""

    id: str
    source_id: str
    copy: int
    lang: str
    sentence1: str
    sentence2: str
    score: float
    changed_words: int = 0


@dataclass
class Augmenter:
    method: str
    copies: int = 1
    seed: int = 0
    recipes: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    switch_rate: float = 0.5
    top_k: int = 2
    neighbours_file: str | None = None
    _perturbers: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        if self.method not in METHODS:
            raise AfroadvError(f"unknown method {self.method!r}; choose from {', '.join(METHODS)}")
        if int(self.copies) != self.copies or self.copies < 0:
            raise AfroadvError(f"--copies must be a whole number >= 0, got {self.copies}")
        self.switch_rate = check_float(self.switch_rate, "--switch-rate", low=0, high=1)
        if self.method in ("rs-da", "codeswitch-aug") and self.copies < 1:
            raise AfroadvError(f"--method {self.method} needs --copies >= 1")
        self.recipes = tuple(self.recipes)
        if self.method == "codeswitch-aug":
            codes = []
            for name in self.langs or DEFAULT_LANGS:
                lang = get_language(name)
                if not len(load_lexicon(lang.lexicon)):
                    raise AfroadvError(f"no lexicon ships for {lang.code}: codeswitch-aug cannot translate into it")
                if lang.code not in codes:
                    codes.append(lang.code)
            self.langs = tuple(codes)
        elif self.langs:
            raise AfroadvError("--langs only applies to --method codeswitch-aug")
        copy_langs = self.langs if self.method == "codeswitch-aug" else ("eng",)
        for name in self.recipes:
            recipe = load_recipe(name).require_invariance("training augmentation")
            for code in copy_langs:
                lang = get_language(code)
                if recipe.supports(lang):
                    self._perturbers[(recipe.name, code)] = recipe.perturber(lang)
            if not any(r == recipe.name for r, _ in self._perturbers):
                where = "English training text" if self.method != "codeswitch-aug" else ", ".join(copy_langs)
                raise AfroadvError(f"recipe {recipe.name!r} does not apply to {where}; it supports: "
                                   f"{', '.join(recipe.supported_languages())}")
        self.recipes = tuple(load_recipe(r).name for r in self.recipes)
        if self.method == "rs-da":
            self.neighbours = load_neighbours(self.neighbours_file)

    @property
    def n_copies(self) -> int:
        """Copies per pair actually made (plain without recipes makes none: they would be duplicates)."""
        if self.method == "plain" and not self.recipes:
            return 0
        return int(self.copies)

    def _recipes_on(self, pair_id: str, k: int, lang: str, s1: str, s2: str) -> tuple[str, str, int]:
        changed = 0
        for name in self.recipes:
            p: Perturber | None = self._perturbers.get((name, lang))
            if p is None:
                continue
            key = stream_key(self.seed, "train-recipe", name, lang, pair_id, k)
            first, second = p.recipe.sides in ("both", "first"), p.recipe.sides in ("both", "second")
            if first:
                r = p.perturb_text(s1, key, 0)
                s1, changed = r.text, changed + r.n_changed
            if second:
                r = p.perturb_text(s2, key, 1)
                s2, changed = r.text, changed + r.n_changed
        return s1, s2, changed

    def copy(self, pair: Pair, k: int, score: float) -> TrainPair:
        """The k-th copy (k >= 1) of a pair: a pure function of (seed, method, pair id, k)."""
        rng = derived_rng(self.seed, self.method, pair.id, k)
        s1, s2, changed, lang = pair.sentence1, pair.sentence2, 0, "eng"
        if self.method == "rs-da":
            s1, c1 = rsda_text(s1, self.neighbours, rng)
            s2, c2 = rsda_text(s2, self.neighbours, rng)
            changed = c1 + c2
        elif self.method == "codeswitch-aug":
            lang = self.langs[int(rng.random() * len(self.langs))]
            lex = load_lexicon(get_language(lang).lexicon)
            s1, c1 = codeswitch_text(s1, lex, self.switch_rate, rng, self.top_k)
            s2, c2 = codeswitch_text(s2, lex, self.switch_rate, rng, self.top_k)
            changed = c1 + c2
        s1, s2, c3 = self._recipes_on(pair.id, k, lang, s1, s2)
        return TrainPair(f"{pair.id}#{self.method}{k}", pair.id, k, lang, s1, s2, score, changed + c3)

    def augment(self, pairs: list[Pair], scores: list[float]) -> tuple[list[TrainPair], dict]:
        """Originals first (copy 0), each followed by its copies; plus statistics for the model card."""
        out: list[TrainPair] = []
        n_changed_copies = 0
        words_changed = 0
        per_lang: Counter = Counter()
        for pair, score in zip(pairs, scores):
            out.append(TrainPair(pair.id, pair.id, 0, "eng", pair.sentence1, pair.sentence2, score))
            for k in range(1, self.n_copies + 1):
                c = self.copy(pair, k, score)
                out.append(c)
                per_lang[c.lang] += 1
                words_changed += c.changed_words
                n_changed_copies += bool(c.changed_words)
        n_copies = len(out) - len(pairs)
        stats = {
            "originals": len(pairs),
            "copies": n_copies,
            "examples": len(out),
            "copies_changed": n_changed_copies,
            "copies_changed_share": round(n_changed_copies / n_copies, 4) if n_copies else 0.0,
            "mean_words_changed_per_copy": round(words_changed / n_copies, 3) if n_copies else 0.0,
            "copies_per_language": dict(sorted(per_lang.items())),
        }
        return out, stats

    def describe(self) -> dict:
        """Everything that determines the copies, for the model card and resume checks."""
        d = {"method": self.method, "copies": self.n_copies, "seed": self.seed, "recipes": list(self.recipes)}
        if self.method == "rs-da":
            d["neighbours"] = self.neighbours.version
        if self.method == "codeswitch-aug":
            d.update(langs=list(self.langs), switch_rate=self.switch_rate, top_k=self.top_k,
                     lexicons={c: load_lexicon(get_language(c).lexicon).version for c in self.langs})
        if self.recipes:
            versions: dict[str, str] = {}
            for p in self._perturbers.values():
                versions.update(p.resource_versions)
            d["recipe_parameters"] = {r: load_recipe(r).params() for r in self.recipes}
            d["recipe_languages"] = {r: sorted(c for n, c in self._perturbers if n == r) for r in self.recipes}
            if versions:
                d["recipe_resources"] = versions
        return d
