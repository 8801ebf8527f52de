"""afroadv recipes as TextAttack components: a `WordSwap` transformation and the attack's
pre-transformation constraints, all reading one `core.AttackSpace` (the recipe YAML bound to a
language), the same object `afroadv attack` searches with.

    from afroadv.attack.transformations import RecipeWordSwap, recipe_constraints
    space = AttackSpace.build("charnoise", "hau", seed=0, budget=0.2, words="textattack")
    transformation = RecipeWordSwap(space)          # usable with any TextAttack search method
    constraints = recipe_constraints(space)         # RepeatModification, RecipeEligibility, WordBudget

TextAttack indexes its own words, so the space must index them too (`words="textattack"`: only
the words TextAttack's and afroadv's splitters see identically are attackable; see core.py).
`RecipeWordSwap` only ever rewrites words the recipe may touch (stop words, numbers, names, URLs
and the sides not attacked are left alone even without the constraints); the constraints also
tell search methods which words are worth ranking. `WordSwapHomoglyphSwap`, TextAttack's own
character-level swap, cannot be used at all in 0.3.11: its data file `intentional_homoglyphs.txt`
is missing from the wheel (FileNotFoundError at construction).

Importing this module imports textattack (through ta_env, offline).
"""

from __future__ import annotations

from afroadv.attack.core import AttackSpace
from afroadv.attack.ta_env import import_textattack

import_textattack()  # stage offline data first: the textattack imports below must come after it

from textattack.constraints import PreTransformationConstraint
from textattack.constraints.overlap import LevenshteinEditDistance
from textattack.constraints.pre_transformation import RepeatModification
from textattack.transformations import WordSwap


def _columns(current_text) -> tuple[str, ...]:
    return tuple(current_text._text_input.values())


def _textattack_space(space: AttackSpace) -> AttackSpace:
    if space.words != "textattack":
        raise ValueError("TextAttack indexes its own words: build the space with "
                         "AttackSpace.build(..., words=\"textattack\")")
    return space


class RecipeWordSwap(WordSwap):
    """Replace one word by one of the recipe's rewrites of it (deterministic per seed and word)."""

    def __init__(self, space: AttackSpace):
        super().__init__()
        self.space = _textattack_space(space)

    def _get_replacement_words(self, word):
        return list(self.space.rewrites(word))

    def _get_transformations(self, current_text, indices_to_modify):
        allowed = self.space.eligible_set(_columns(current_text))
        words = current_text.words
        out = []
        for i in indices_to_modify:
            if i not in allowed:
                continue
            for r in self.space.rewrites(words[i]):
                out.append(current_text.replace_word_at_index(i, r))
        return out

    @property
    def deterministic(self):
        return True

    def extra_repr_keys(self):
        return ["recipe", "lang", "candidates"]

    @property
    def recipe(self):
        return self.space.recipe.name

    @property
    def lang(self):
        return self.space.lang.code

    @property
    def candidates(self):
        return self.space.candidates


class RecipeEligibility(PreTransformationConstraint):
    """Words the recipe may rewrite on the attacked sides: not stop words, numbers, names, URLs;
    a word both tokenisers agree on; at least one rewrite."""

    def __init__(self, space: AttackSpace):
        self.space = _textattack_space(space)

    def _get_modifiable_indices(self, current_text):
        return self.space.eligible_set(_columns(current_text))

    def extra_repr_keys(self):
        return ["sides"]

    @property
    def sides(self):
        return self.space.sides


class WordBudget(PreTransformationConstraint):
    """At most ⌊budget × words on the attacked sides⌋ words perturbed (TextAttack's
    MaxModificationRate rounds up and counts every column, which can exceed the budget)."""

    def __init__(self, space: AttackSpace):
        self.space = _textattack_space(space)

    def _get_modifiable_indices(self, current_text):
        return self.space.budget_set(_columns(current_text), len(current_text.attack_attrs["modified_indices"]))

    def extra_repr_keys(self):
        return ["budget"]

    @property
    def budget(self):
        return self.space.budget


def recipe_constraints(space: AttackSpace) -> list:
    """The attack's constraints, in the order afroadv's engine applies them."""
    out = [RepeatModification(), RecipeEligibility(space), WordBudget(space)]
    if space.max_edit_distance is not None:
        out.append(LevenshteinEditDistance(int(space.max_edit_distance), compare_against_original=True))
    return out
