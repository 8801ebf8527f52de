"""A TextAttack goal function for regression over sentence pairs (what TextAttack lacks, its #793).

TextAttack 0.3.11 has no goal function for a similarity score: its classification goals softmax
the output, and `Attack.attack` asserts that the ground truth is an `int` or a `str`, so a float
STS gold score is rejected before any goal function sees it. Here:

- `PairRegressionGoalFunction` reads the model's score for the pair (no softmax), remembers the
  original pair's score at `init_attack_example`, and scores a perturbed pair by `core.Goal`
  (|s − s_orig|, or the growth of |s − gold|); success when that reaches δ;
- the gold score travels as a `str` (`gold_label(0.73)` → "0.73", exactly `repr` of the float, so
  `float()` gets the same number back): it passes `Attack.attack`'s assertion and TextAttack's
  `Dataset` untouched, and the goal function parses it back (floats and `None` are accepted too
  when the goal function is called directly).

Importing this module imports textattack (through ta_env, offline).
"""

from __future__ import annotations

import logging

import numpy as np

from afroadv.attack.core import DEFAULT_DELTA, Goal
from afroadv.attack.ta_env import import_textattack

import_textattack()  # stage offline data first: the textattack imports below must come after it

from textattack.goal_function_results import GoalFunctionResult
from textattack.goal_functions import GoalFunction


def gold_label(score: float | None) -> str:
    """A gold similarity score as the `str` label `Attack.attack` accepts ("" when there is none)."""
    return "" if score is None else repr(float(score))


def parse_gold(label) -> float | None:
    if label is None or label == "":
        return None
    if isinstance(label, (int, float, np.floating, np.integer)) and not isinstance(label, bool):
        return float(label)
    try:
        return float(label)
    except (TypeError, ValueError):
        raise ValueError(f"gold label {label!r} is not a number (use gold_label(score))") from None


class PairScoreResult(GoalFunctionResult):
    """A goal-function result whose output is a similarity score."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("goal_function_result_type", "PairScore")
        super().__init__(*args, **kwargs)

    def get_text_color_input(self):
        return "red"

    def get_text_color_perturbed(self):
        return "blue"

    def get_colored_output(self, color_method=None):
        return f"{float(self.output):.4f}"


class PairRegressionGoalFunction(GoalFunction):
    """Move a pair's similarity score by δ (`goal="move"`) or away from the gold score by δ
    (`goal="away-from-gold"`). The model wrapper maps [(sentence1, sentence2), ...] to scores."""

    def __init__(self, model_wrapper, goal: str = "move", delta: float = DEFAULT_DELTA,
                 query_budget=float("inf"), model_batch_size: int = 32, model_cache_size: int = 2**20):
        self.goal = Goal(goal, float(delta))
        self.orig_score: float | None = None
        self.gold: float | None = None
        from textattack.shared.utils import logger

        level = logger.level
        logger.setLevel(logging.ERROR)  # "No entry found for goal function ...": TextAttack lists only its own
        try:
            super().__init__(model_wrapper, maximizable=False, use_cache=True, query_budget=query_budget,
                             model_batch_size=model_batch_size, model_cache_size=model_cache_size)
        finally:
            logger.setLevel(level)

    def init_attack_example(self, attacked_text, ground_truth_output):
        self.gold = parse_gold(ground_truth_output)
        if self.goal.needs_gold and self.gold is None:
            raise ValueError("goal 'away-from-gold' needs a gold score for every example")
        # The original score first (not counted as a query; cached, so the result below reuses it).
        self.orig_score = None
        self.orig_score = float(self._call_model([attacked_text])[0])
        return super().init_attack_example(attacked_text, ground_truth_output)

    def _process_model_outputs(self, inputs, outputs):
        if hasattr(outputs, "detach"):
            outputs = outputs.detach().cpu().numpy()
        arr = np.asarray(outputs).reshape(-1)
        if len(arr) != len(inputs):
            raise ValueError(f"model returned {len(arr)} scores for {len(inputs)} pairs (one score per pair)")
        return [float(x) for x in arr]

    def _get_score(self, model_output, attacked_text):
        if self.orig_score is None:
            return 0.0
        return self.goal.objective(float(model_output), self.orig_score, self.gold)

    def _is_goal_complete(self, model_output, attacked_text):
        return self.orig_score is not None and self.goal.done(self._get_score(model_output, attacked_text))

    def _get_displayed_output(self, raw_output):
        return float(raw_output)

    def _goal_function_result_type(self):
        return PairScoreResult

    def extra_repr_keys(self):
        return ["goal", "delta"] + super().extra_repr_keys()

    @property
    def delta(self) -> float:
        return self.goal.delta
