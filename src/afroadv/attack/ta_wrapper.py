"""TextAttack glue: a model wrapper over `PairScorer`, a pair dataset with float-safe labels, and
`build_attack`, which assembles a plain `textattack.Attack` from afroadv's components.

    space = AttackSpace.build("charnoise", "hau", words="textattack")  # TextAttack indexes its own words
    attack = build_attack(space, PairModelWrapper(PairScorer(load_encoder("e5-small"))), goal="move")
    result = attack.attack(AttackedText(OrderedDict(sentence1=s1, sentence2=s2)), gold_label(0.6))

`afroadv attack --engine textattack` runs exactly this per example (and gives the same outputs as
afroadv's engine with `--words textattack`, only slower). Two TextAttack behaviours are worked around here:

- `AttackArgs(parallel=True)` raises "Found no GPU on your system" on a CPU-only machine, so
  afroadv never asks for it; batching happens inside the model wrapper instead;
- TextAttack's goal function cuts every query list into `model_batch_size` chunks and calls the
  wrapper once per chunk; with `PairScorer` the chunks are pointless (it batches unique texts
  itself), so `build_attack` passes one chunk per query list.

Importing this module imports textattack (through ta_env, offline).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from afroadv.attack.core import AttackSpace
from afroadv.attack.goal import PairRegressionGoalFunction, gold_label
from afroadv.attack.ta_env import import_textattack
from afroadv.attack.transformations import RecipeWordSwap, recipe_constraints
from afroadv.attack.wrapper import PairScorer

textattack = import_textattack()  # stage offline data first: the textattack imports below must come after it

from textattack.models.wrappers import ModelWrapper
from textattack.search_methods import BeamSearch

COLUMNS = ("sentence1", "sentence2")
ONE_CHUNK = 2**31 - 1


class PairModelWrapper(ModelWrapper):
    """[(sentence1, sentence2), ...] → similarity scores (float32), through a `PairScorer`."""

    def __init__(self, scorer: PairScorer):
        self.scorer = scorer
        self.model = scorer.encoder  # TextAttack's validators look at `.model`

    def __call__(self, text_input_list, **kwargs):
        pairs = []
        for x in text_input_list:
            if isinstance(x, str) or len(x) != 2:
                raise ValueError("PairModelWrapper scores sentence pairs: give AttackedText two columns")
            pairs.append((x[0], x[1]))
        return np.asarray(self.scorer.score_pairs(pairs), dtype=np.float32)


class BudgetedBeamSearch(BeamSearch):
    """TextAttack's BeamSearch, except when the original pair's query has spent the whole query
    budget (`--max-queries 1`): there the original gives up at once, where TextAttack's would
    raise on the argmax of an empty result list. Everything else is the parent's."""

    def perform_search(self, initial_result):
        gf = self.goal_function
        if gf.query_budget < float("inf") and gf.num_queries >= gf.query_budget:
            return initial_result
        return super().perform_search(initial_result)


def search_method(search: str = "greedy", beam_width: int = 4):
    from textattack.search_methods import GreedyWordSwapWIR

    if search == "greedy":
        # "delete", not TextAttack's default "unk": its unk token is BERT's "[UNK]".
        return GreedyWordSwapWIR(wir_method="delete")
    if search == "beam":
        return BudgetedBeamSearch(beam_width=int(beam_width))
    raise ValueError(f"unknown search {search!r}: greedy or beam")


def build_attack(space: AttackSpace, model_wrapper, goal: str = "move", delta: float = 0.1,
                 search: str = "greedy", beam_width: int = 4, max_queries: int | None = None,
                 model_batch_size: int | None = None):
    """A `textattack.Attack` with afroadv's goal function, recipe transformation and constraints.

    `model_batch_size=None` sends each query list to the wrapper in one call when the wrapper is a
    `PairModelWrapper` (it batches itself), else TextAttack's default of 32 pairs per call."""
    if model_batch_size is None:
        model_batch_size = ONE_CHUNK if isinstance(model_wrapper, PairModelWrapper) else 32
    goal_fn = PairRegressionGoalFunction(model_wrapper, goal=goal, delta=delta,
                                         query_budget=int(max_queries) if max_queries else float("inf"),
                                         model_batch_size=model_batch_size)
    return textattack.Attack(goal_fn, recipe_constraints(space), RecipeWordSwap(space),
                             search_method(search, beam_width))


def attacked_text(sentence1: str, sentence2: str):
    from textattack.shared import AttackedText

    return AttackedText(OrderedDict([(COLUMNS[0], sentence1), (COLUMNS[1], sentence2)]))


def pairs_dataset(pairs, scale: float = 1.0):
    """A `textattack.datasets.Dataset` of ((sentence1, sentence2), gold_label(score / scale)) for
    `Attacker` (`scale`: the top of the dataset's score scale, e.g. 5 for STS-B)."""
    from textattack.datasets import Dataset

    return Dataset([((p.sentence1, p.sentence2), gold_label(None if p.score is None else p.score / scale))
                    for p in pairs], input_columns=list(COLUMNS))
