"""The attack's one source of truth, in plain Python (no textattack, no torch).

Both the afroadv search engine (search.py) and the TextAttack classes (goal.py,
transformations.py) are thin shells over what is defined here, so the two can only agree:

- `Goal`: the regression goal over a pair's similarity score (move it by δ, or move it away from
  the gold score by δ);
- `AttackSpace`: a recipe bound to a language, over a pair's words indexed 0, 1, … across both
  sentences. It answers which words may be rewritten (the recipe's eligibility + stop words +
  numbers/URLs/names, the attacked sides, the perturbed-word budget), what each word may become
  (the recipe's own transformations, deterministic per (seed, word)), and how a pair's text
  changes when word *k* is replaced (exactly that word's characters, nothing else) or deleted.

Which words (`words=`):

- `"afroadv"` (the default, afroadv's engine): the words of `afroadv.text.split_tokens`, the
  script-aware tokeniser `generate` uses. Every word a recipe may rewrite can be attacked: words
  with combining tone marks (Yoruba ẹ̀kọ́, whose NFC form keeps the grave as a combining mark),
  each part of a hyphenated compound (ọjà-títà), Arabic with harakat.
- `"textattack"` (what `--engine textattack` needs, since TextAttack indexes its own words):
  TextAttack's words, from its own `words_from_text` (imported from textattack, never copied
  here), each placed in the text left to right after the one before it, as TextAttack's own edits
  find them. Only a word both splitters see identically (same characters, same place) may be
  rewritten, and a rewrite only if both still see one word. TextAttack's `\\w` splits words at
  combining marks and keeps hyphenated compounds whole, so those words are left alone here. On
  this footing the two engines give byte-identical outputs (tests/test_attack_textattack.py,
  benchmarks/bench_attack.py).
"""

from __future__ import annotations

import math
import unicodedata
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
    WORDS,
)
from afroadv.errors import AfroadvError
from afroadv.langs import Language, get_language
from afroadv.options import check_count, check_float, check_seed
from afroadv.perturb.recipe import Perturber, Recipe, derived_rng, load_recipe
from afroadv.text import is_protected_token, nfc, split_tokens, word_spans

ATTACK_PROTECT = ("numbers", "names", "stopwords")  # added to every recipe's own `protect` list

# TextAttack looks for each word in the pair's columns joined by this separator, so a word that is
# part of it (I, S, IT …) could be found inside it: such words are left alone in the "textattack" view.
TA_SEPARATOR = "<SPLIT>"
# Characters of text the AttackSpace memos may hold (measured: ~60 bytes per character analysed,
# ~40 per character of words and rewrites), so their memory stays near 100-150 MB whatever the texts.
ANALYSIS_CHARS = 1 << 21
REWRITE_CHARS = 1 << 22

Span = tuple[int, int, int]  # (column, start, end) of a word


def place_words(columns: tuple[str, ...], words: list[str]) -> list[Span | None]:
    """Where each of a splitter's words sits: the first occurrence after the word before it, moving
    on to the next column when the current one has no more; None from the first word not found."""
    out: list[Span | None] = []
    c, pos = 0, 0
    for w in words:
        i = -1
        while c < len(columns):
            i = columns[c].find(w, pos) if w else -1
            if i >= 0:
                break
            c, pos = c + 1, 0
        if i < 0:
            return out + [None] * (len(words) - len(out))
        out.append((c, i, i + len(w)))
        pos = i + len(w)
    return out


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
    """What one pair text offers, in the space's word indexing."""

    n_words: int  # indexed words in all columns (TextAttack's view: `len(AttackedText.words)`)
    words: tuple[str, ...]
    spans: tuple[Span | None, ...]  # where each word is; None: a TextAttack word that could not be placed
    eligible: frozenset[int] | set[int]  # indices the recipe may rewrite
    budget_words: int  # afroadv words on the attacked sides (the budget's denominator)


def _as_sides(sides: str) -> tuple[bool, bool]:
    if sides not in SIDE_CHOICES:
        raise AfroadvError(f"--sides must be one of {', '.join(SIDE_CHOICES)}, got {sides!r}")
    return sides in ("both", "first"), sides in ("both", "second")


class AttackSpace:
    """A recipe bound to a language, with the attack's constraints, over a pair's indexed words
    (`words`: "afroadv", afroadv's tokeniser, or "textattack", TextAttack's words where they agree)."""

    def __init__(self, perturber: Perturber, *, seed: int = 0, candidates: int = DEFAULT_CANDIDATES,
                 sides: str = "both", budget: float = DEFAULT_BUDGET, max_edit_distance: int | None = None,
                 words: str = "afroadv"):
        if words not in WORDS:
            raise AfroadvError(f"--words must be one of {', '.join(WORDS)}, got {words!r}")
        self.words = words
        self._ta_split = None
        if words == "textattack":
            from afroadv.attack.ta_env import require_textattack, textattack_words

            require_textattack("--words textattack")
            self._ta_split = textattack_words()
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
                "max_edit_distance": self.max_edit_distance, "protect": list(self.recipe.protect), "words": self.words}

    # -------------------------------------------------------------- what a word may become
    def rewrites(self, word: str) -> tuple[str, ...]:
        """Distinct rewrites of `word` from every transformation of the recipe that applies to it,
        up to `candidates` each, none spelling another known word where the recipe avoids real words
        (as generate does); the same word always gets the same list (seeded by the word)."""
        found = self._rewrites.get(word)
        if found is None:
            rng = derived_rng(self.seed, self.recipe.name, self.lang.code, "attack", word)
            out: dict[str, None] = {}
            for t, _ in self.perturber.transformations:
                if not t.applies(word):
                    continue
                for new in t.candidates(word, rng, self.candidates):
                    new = nfc(new)
                    if new != word and self._one_word(new) and not self.perturber.spells_another_word(word, new):
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
        rewritable: set[Span] = set()  # words the recipe may rewrite on the attacked sides
        budget_words = 0
        for c, text in enumerate(columns):
            if c < 2 and self.attack_side[c] or (len(columns) == 1 and c == 0):
                if nfc(text) == text:  # (non-NFC text: nothing lines up, leave it alone)
                    budget_words += self.perturber.analyse(text).n_words
                    rewritable.update((c, a, b) for a, b, _ in self.perturber.spans(text))
        if self._ta_split is None:
            spans: list[Span | None] = [(c, a, b) for c, text in enumerate(columns) for a, b in word_spans(text)]
            words = [columns[c][a:b] for c, a, b in spans]
        else:
            words = self._ta_split("\n".join(columns))  # exactly `AttackedText.words`
            spans = place_words(columns, words)
            rewritable = {(c, a, b) for c, a, b in rewritable if columns[c][a:b] not in TA_SEPARATOR}
        eligible = {k for k, span in enumerate(spans) if span in rewritable and self.rewrites(words[k])}
        return Analysis(len(words), tuple(words), tuple(spans), eligible, budget_words)

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
        """Word k's characters become `new`; every other character of the pair stays as it was."""
        c, a, b = self.analyse(columns).spans[k]
        text = columns[c]
        return (*columns[:c], text[:a] + new + text[b:], *columns[c + 1:])

    def delete_word(self, columns: tuple[str, ...], k: int) -> tuple[str, ...]:
        """Word k and one space beside it go (how word importance is measured): the space after the
        pair's first word, before any other word, none after the pair's last character — the rule of
        TextAttack's `delete_word_at_index`, so both engines rank words alike."""
        c, a, b = self.analyse(columns).spans[k]
        text = columns[c]
        if b < len(text) or c < len(columns) - 1:
            if k == 0:
                b += text[b:b + 1] == " "
            elif text[a - 1:a] == " ":
                a -= 1
        return (*columns[:c], text[:a] + text[b:], *columns[c + 1:])

    def _one_word(self, word: str) -> bool:
        """The space's splitter(s) see `word` as exactly one word (so word indices never shift), and
        it starts with a letter or digit rather than a mark that could join the character before it."""
        parts = split_tokens(word)
        if len(parts) != 3 or parts[0] or parts[2] or is_protected_token(word) or unicodedata.category(word[0])[0] == "M":
            return False
        return self._ta_split is None or self._ta_split(word) == [word]

    def within_edit_distance(self, original: tuple[str, ...], columns: tuple[str, ...]) -> bool:
        """TextAttack's LevenshteinEditDistance(compare_against_original=True) on the joined text."""
        if self.max_edit_distance is None:
            return True
        return levenshtein("\n".join(original), "\n".join(columns)) <= self.max_edit_distance


def tokenisations_agree(a: AttackSpace, b: AttackSpace, columns: tuple[str, ...]) -> bool:
    """Both spaces index the same words at the same places, with the same attackable ones and the
    same rewrites of each: their searches then take the same decisions (the engines' equal footing)."""
    x, y = a.analyse(columns), b.analyse(columns)
    return x.spans == y.spans and x.eligible == y.eligible and all(
        a.rewrites(x.words[k]) == b.rewrites(y.words[k]) for k in x.eligible)


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
