"""The attack's one source of truth, in plain Python (no textattack, no torch).

Both the afroadv search engine (search.py) and the TextAttack classes (goal.py,
transformations.py) are thin shells over what is defined here, so the two can only agree:

- `Goal`: the regression goal over a pair's similarity score (move it by δ, or move it away from
  the gold score by δ);
- `AttackSpace`: a recipe bound to a language, seen through TextAttack's word indexing. It answers
  which words may be rewritten (the recipe's eligibility + stop words + numbers/URLs/names, the
  attacked sides, the perturbed-word budget), what each word may become (the recipe's own
  transformations, deterministic per (seed, word)), and how a pair's text changes when word *k* is
  replaced or deleted — byte for byte what `AttackedText.replace_word_at_index` /
  `delete_word_at_index` produce.

Why TextAttack's word indexing: an attack found by afroadv must be reproducible by plain TextAttack
with the same components (and the benchmark proves it is). TextAttack splits words with
`words_from_text` (vendored below, MIT licence, TextAttack 0.3.11) while recipes split with
`afroadv.text.split_tokens`; a word is attackable only where the two agree exactly (same
characters, same place), and a rewrite is kept only if both splitters still see it as one word.
Words the two disagree on (hyphenated compounds, words with combining tone marks such as Yoruba
ọ̀, which TextAttack's `\\w` splits) are left alone: that is the price of agreement.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import NamedTuple

from afroadv.attack.defaults import (
    DEFAULT_BUDGET,
    DEFAULT_CANDIDATES,
    DEFAULT_DELTA,
    GOALS,
    MAX_CANDIDATES,
    SIDE_CHOICES,
)
from afroadv.errors import AfroadvError
from afroadv.langs import Language, get_language
from afroadv.options import check_count, check_float, check_seed
from afroadv.perturb.recipe import Perturber, Recipe, derived_rng, load_recipe
from afroadv.text import is_protected_token, nfc, split_tokens

ATTACK_PROTECT = ("numbers", "names", "stopwords")  # added to every recipe's own `protect` list

SPLIT_TOKEN = "<SPLIT>"  # textattack.shared.AttackedText.SPLIT_TOKEN
# Characters of text the AttackSpace memos may hold (measured: ~60 bytes per character analysed,
# ~40 per character of words and rewrites), so their memory stays near 100-150 MB whatever the texts.
ANALYSIS_CHARS = 1 << 21
REWRITE_CHARS = 1 << 22

# ---------------------------------------------------------------- TextAttack's word splitter
# Copied from textattack/shared/utils/strings.py (0.3.11, MIT) so that importing afroadv's engine
# never imports textattack; tests check it agrees with the original on every shipped sentence.
_HOMOS = """˗৭Ȣ𝟕бƼᏎƷᒿlO`ɑЬϲԁе𝚏ɡհіϳ𝒌ⅼｍոорԛⲅѕ𝚝սѵԝ×уᴢ"""
_EXCEPTIONS = """'-_*@"""
_FILTER_PATTERN = _HOMOS + """'\\-_\\*@"""
_FILTER = re.compile(f"[\\w{_FILTER_PATTERN}]+")
_CJK = re.compile("[\u4e00-\u9fff]")


def ta_words(text: str) -> list[str] | None:
    """`textattack.shared.utils.words_from_text(text)`; None for CJK text (TextAttack uses jieba)."""
    if _CJK.search(text):
        return None
    words = []
    for word in " ".join(text.split()).split():
        word = word.strip(_EXCEPTIONS)
        words.extend(w.strip(_EXCEPTIONS) for w in _FILTER.findall(word))
    return [w for w in words if w != ""]


def ta_spans(columns: tuple[str, ...], words: list[str]) -> list[tuple[int, int]]:
    """Where `AttackedText.generate_new_attacked_text` finds each word, in SPLIT-joined coordinates.

    A literal port of its search (including the `<SPLIT>` work-around for words such as "I" that
    are substrings of the split token), so replacing or deleting word k here gives the same text."""
    original_text = SPLIT_TOKEN.join(columns)
    spans = []
    offset = 0
    for word in words:
        if word in SPLIT_TOKEN and SPLIT_TOKEN in original_text:
            split_start = original_text.index(SPLIT_TOKEN)
            split_end = split_start + len(SPLIT_TOKEN)
            if split_start <= original_text.index(word) < split_end:
                start = original_text.replace(SPLIT_TOKEN, "").index(word) + len(SPLIT_TOKEN)
            else:
                start = original_text.index(word)
        else:
            start = original_text.index(word)
        end = start + len(word)
        spans.append((offset + start, offset + end))
        original_text = original_text[end:]
        offset += end
    return spans


# ---------------------------------------------------------------- the goal
@dataclass(frozen=True)
class Goal:
    """`move`: |s_adv − s_orig| ≥ δ. `away-from-gold`: |s_adv − gold| − |s_orig − gold| ≥ δ.

    The objective (what the search maximises, and the "deviation reached" results are ranked by)
    is the left-hand side; scores and gold are on the 0–1 scale."""

    kind: str = "move"
    delta: float = DEFAULT_DELTA

    def __post_init__(self):
        if self.kind not in GOALS:
            raise AfroadvError(f"--goal must be one of {', '.join(GOALS)}, got {self.kind!r}")
        # scores live on the 0–1 scale: a δ above 1 can never be reached, a NaN never compares
        object.__setattr__(self, "delta", check_float(self.delta, "--delta", low=0.0, high=1.0, low_open=True))

    @property
    def needs_gold(self) -> bool:
        return self.kind == "away-from-gold"

    def objective(self, score: float, orig: float, gold: float | None) -> float:
        if self.kind == "move":
            return abs(score - orig)
        if gold is None:
            raise AfroadvError("--goal away-from-gold needs gold scores; this pair has none")
        return abs(score - gold) - abs(orig - gold)

    def done(self, objective: float) -> bool:
        return objective >= self.delta


# ---------------------------------------------------------------- the search space
class Analysis(NamedTuple):
    """What one pair text offers, in TextAttack's word indexing."""

    n_words: int  # TextAttack words in all columns (`len(AttackedText.words)`)
    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # SPLIT-joined coordinates
    eligible: frozenset[int] | set[int]  # TextAttack indices the recipe may rewrite
    where: dict[int, tuple[int, int]]  # eligible index -> (column, n-th word of that column)
    budget_words: int  # afroadv words on the attacked sides (the budget's denominator)


def _as_sides(sides: str) -> tuple[bool, bool]:
    if sides not in SIDE_CHOICES:
        raise AfroadvError(f"--sides must be one of {', '.join(SIDE_CHOICES)}, got {sides!r}")
    return sides in ("both", "first"), sides in ("both", "second")


class AttackSpace:
    """A recipe bound to a language, with the attack's constraints, over TextAttack word indices."""

    def __init__(self, perturber: Perturber, *, seed: int = 0, candidates: int = DEFAULT_CANDIDATES,
                 sides: str = "both", budget: float = DEFAULT_BUDGET, max_edit_distance: int | None = None):
        self.perturber = perturber
        self.seed = check_seed(seed)
        # capped: every rewrite of every word is built (and, in a beam, queried), so memory grows with it
        self.candidates = check_count(candidates, "--candidates", maximum=MAX_CANDIDATES)
        self.sides = sides
        self.attack_side = _as_sides(sides)
        self.budget = check_float(budget, "--budget", low=0.0, high=1.0, low_open=True)
        self.max_edit_distance = None if max_edit_distance is None else check_count(max_edit_distance,
                                                                                    "--max-edit-distance")
        self._rewrites: dict[str, tuple[str, ...]] = {}
        self._rewrites_chars = 0
        self._analysis: OrderedDict[tuple[str, ...], Analysis] = OrderedDict()
        self._analysis_chars = 0

    @classmethod
    def build(cls, recipe: str | Recipe, lang: str | Language, **kwargs) -> AttackSpace:
        """A recipe by name (or YAML path) and a language code, with the attack's protections added."""
        rec = (load_recipe(recipe) if isinstance(recipe, str) else recipe).require_invariance("an attack")
        language = get_language(lang) if isinstance(lang, str) else lang
        protect = tuple(dict.fromkeys((*rec.protect, *ATTACK_PROTECT)))
        return cls(replace(rec, protect=protect).perturber(language), **kwargs)

    @property
    def recipe(self) -> Recipe:
        return self.perturber.recipe

    @property
    def lang(self) -> Language:
        return self.perturber.lang

    def params(self) -> dict:
        return {"seed": self.seed, "candidates": self.candidates, "sides": self.sides, "budget": self.budget,
                "max_edit_distance": self.max_edit_distance, "protect": list(self.recipe.protect)}

    # -------------------------------------------------------------- what a word may become
    def rewrites(self, word: str) -> tuple[str, ...]:
        """Distinct rewrites of `word` from every transformation of the recipe that applies to it,
        up to `candidates` each; the same word always gets the same list (seeded by the word)."""
        found = self._rewrites.get(word)
        if found is None:
            rng = derived_rng(self.seed, self.recipe.name, self.lang.code, "attack", word)
            out: dict[str, None] = {}
            for t, _ in self.perturber.transformations:
                if not t.applies(word):
                    continue
                for new in t.candidates(word, rng, self.candidates):
                    new = nfc(new)
                    if new != word and _one_word(new):
                        out.setdefault(new)
            found = tuple(out)
            size = len(word) + sum(map(len, found))
            if len(self._rewrites) < 500_000 and self._rewrites_chars + size <= REWRITE_CHARS:
                self._rewrites[word] = found  # (bounded in characters too: words can be long)
                self._rewrites_chars += size
        return found

    # -------------------------------------------------------------- which words
    def analyse(self, columns: tuple[str, ...]) -> Analysis:
        columns = tuple(columns)
        found = self._analysis.get(columns)
        if found is not None:
            return found
        found = self._analyse(columns)
        self._analysis[columns] = found
        self._analysis_chars += sum(map(len, columns))
        # least recently added first; bounded in characters (an analysis grows with its text's words)
        while len(self._analysis) > 1 and (len(self._analysis) > 50_000 or self._analysis_chars > ANALYSIS_CHARS):
            old, _ = self._analysis.popitem(last=False)
            self._analysis_chars -= sum(map(len, old))
        return found

    def _analyse(self, columns: tuple[str, ...]) -> Analysis:
        words = ta_words("\n".join(columns))
        if words is None:
            return Analysis(0, (), (), set(), {}, 0)
        try:
            spans = ta_spans(columns, words)
        except ValueError:  # TextAttack could not place a word either: nothing is safe to touch
            return Analysis(len(words), tuple(words), (), set(), {}, 0)
        tokens: dict[tuple[int, int], tuple[int, int]] = {}  # span -> (column, n-th word)
        budget_words = 0
        offset = 0
        for c, text in enumerate(columns):
            if c < 2 and self.attack_side[c] or (len(columns) == 1 and c == 0):
                if nfc(text) == text:  # (non-NFC text: nothing lines up, leave it alone)
                    budget_words += self.perturber.analyse(text).n_words
                    for a, b, n in self.perturber.spans(text):
                        tokens[(offset + a, offset + b)] = (c, n)
            offset += len(text) + len(SPLIT_TOKEN)
        eligible_idx: set[int] = set()
        where: dict[int, tuple[int, int]] = {}
        for k, span in enumerate(spans):
            pos = tokens.get(span)
            if pos is not None and self.rewrites(words[k]):
                eligible_idx.add(k)
                where[k] = pos
        return Analysis(len(words), tuple(words), tuple(spans), eligible_idx, where, budget_words)

    def limit(self, columns: tuple[str, ...]) -> int:
        """How many words may be perturbed: ⌊budget × words on the attacked sides⌋."""
        return math.floor(self.budget * self.analyse(columns).budget_words + 1e-9)

    def eligible_set(self, columns: tuple[str, ...]) -> set[int]:
        """The recipe-eligibility constraint (RecipeEligibility in TextAttack)."""
        return self.analyse(columns).eligible

    def budget_set(self, columns: tuple[str, ...], n_modified: int) -> set[int]:
        """The budget constraint (WordBudget in TextAttack): everything, or nothing once spent."""
        a = self.analyse(columns)
        return set(range(a.n_words)) if n_modified < self.limit(columns) else set()

    def modifiable(self, columns: tuple[str, ...], modified: frozenset[int] | set[int],
                   indices=None) -> set[int]:
        """`Transformation.__call__(..., return_indices=True)` with this attack's pre-transformation
        constraints, in their order: RepeatModification, RecipeEligibility, WordBudget. The same set
        operations in the same order, so even the set's iteration order matches TextAttack's."""
        n = self.analyse(columns).n_words
        idx = set(range(n)) if indices is None else set(indices)
        idx = idx & (set(range(n)) - set(modified))
        idx = idx & self.eligible_set(columns)
        idx = idx & self.budget_set(columns, len(modified))
        return idx

    # -------------------------------------------------------------- how a text changes
    def replace_word(self, columns: tuple[str, ...], k: int, new: str) -> tuple[str, ...]:
        a, b = self.analyse(columns).spans[k]
        joined = SPLIT_TOKEN.join(columns)
        return tuple((joined[:a] + new + joined[b:]).split(SPLIT_TOKEN))

    def delete_word(self, columns: tuple[str, ...], k: int) -> tuple[str, ...]:
        """`AttackedText.delete_word_at_index(k)`: the word and one space beside it go."""
        a, b = self.analyse(columns).spans[k]
        joined = SPLIT_TOKEN.join(columns)
        before, after = joined[:a], joined[b:]
        if len(after):
            if k == 0:
                if after[0] == " ":
                    after = after[1:]
            elif before and before[-1] == " ":
                before = before[:-1]
        return tuple((before + after).split(SPLIT_TOKEN))

    def within_edit_distance(self, original: tuple[str, ...], columns: tuple[str, ...]) -> bool:
        """TextAttack's LevenshteinEditDistance(compare_against_original=True) on the joined text."""
        if self.max_edit_distance is None:
            return True
        return levenshtein("\n".join(original), "\n".join(columns)) <= self.max_edit_distance


def _one_word(word: str) -> bool:
    """Both splitters see `word` as exactly one word (so word indices never shift)."""
    parts = split_tokens(word)
    return len(parts) == 3 and parts[0] == "" and parts[2] == "" and ta_words(word) == [word]


def levenshtein(a: str, b: str) -> int:
    try:
        import editdistance  # what TextAttack's constraint uses (a C extension it depends on)

        return int(editdistance.eval(a, b))
    except ImportError:  # pragma: no cover - editdistance ships with textattack
        pass
    # common prefix/suffix trimmed, then the textbook DP
    while a and b and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def changed_words(original: tuple[str, ...], final: tuple[str, ...]) -> list[dict]:
    """Words that differ between the original and the adversarial pair, per side (afroadv words)."""
    out = []
    for c, (a, b) in enumerate(zip(original, final)):
        if a == b:
            continue
        pa, pb = split_tokens(a), split_tokens(b)
        if len(pa) != len(pb):
            out.append({"side": c + 1, "index": None, "old": a, "new": b})
            continue
        n = -1
        for i in range(1, len(pa), 2):
            if is_protected_token(pa[i]):
                continue
            n += 1
            if pa[i] != pb[i]:
                out.append({"side": c + 1, "index": n, "old": pa[i], "new": pb[i]})
    return out
