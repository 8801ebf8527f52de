"""afroadv's attack engine: TextAttack's greedy word-importance search and beam search, replayed
on plain tuples of strings.

Why not run TextAttack's `Attack` itself: for every candidate it builds an `AttackedText` (a regex
split of every word, a rebuilt string, index maps), runs the constraints through caches keyed by
those objects, and re-sorts; on a small encoder that bookkeeping is a visible share of the time,
and TextAttack re-queries its model wrapper per 32-pair batch and clears its model cache after
every example. This module takes the same decisions with none of that:

- `GreedyWordSwapWIR(wir_method="delete")`: rank the attackable words by how far deleting each
  moves the goal, then walk that ranking, at each word keeping the best rewrite if it improves
  the objective, and stop at the first success;
- `BeamSearch(beam_width=K)`: expand every beam text by every allowed rewrite, keep the K best;
- `GoalFunction.get_results`: the query count (cached repeats count, as in TextAttack), the query
  budget that truncates a batch and ends the search;
- `Attack.filter_transformations`: candidates equal to the current text dropped, the edit-distance
  constraint against the original, candidates sorted by text.

Same goal (core.Goal), same space (core.AttackSpace: eligibility, budget, rewrites, TextAttack's
own text edits), same numpy tie-breaking — so the result is the one TextAttack would return with
the afroadv components (tests/test_attack.py and benchmarks/bench_attack.py check that it is).
WIR `unk` (TextAttack's default) is not offered: it inserts BERT's "[UNK]", which XLM-R-family
tokenisers split into ordinary pieces instead of their `<unk>`; deletion needs no model token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from afroadv.attack.core import AttackSpace, Goal


@dataclass(frozen=True)
class Node:
    columns: tuple[str, ...]
    modified: frozenset[int]
    score: float  # the model's similarity score
    objective: float  # what the goal maximises
    done: bool  # objective ≥ δ

    @property
    def text(self) -> str:
        return "\n".join(self.columns)


@dataclass(frozen=True)
class Outcome:
    original: Node
    final: Node
    queries: int

    @property
    def succeeded(self) -> bool:
        return self.final.done


class ExampleSearch:
    """One example's search. `score(list_of_column_tuples) -> list[float]` is the model."""

    def __init__(self, space: AttackSpace, goal: Goal, score: Callable[[list[tuple[str, ...]]], list[float]],
                 max_queries: int | None = None):
        self.space = space
        self.goal = goal
        self._score_fn = score
        self.query_budget = float("inf") if not max_queries else int(max_queries)

    # ---------------------------------------------------------------- the goal function
    def _model(self, items: list[tuple[str, ...]]) -> list[float]:
        """TextAttack's per-example model cache: only unseen texts reach the model."""
        cache = self._cache
        new = list(dict.fromkeys(c for c in items if c not in cache))
        if new:
            for c, s in zip(new, self._score_fn(new)):
                cache[c] = float(s)
        return [cache[c] for c in items]

    def _results(self, items: list[tuple[tuple[str, ...], frozenset[int]]]) -> tuple[list[Node], bool]:
        if self.query_budget < float("inf"):
            items = items[: self.query_budget - self.num_queries]
        self.num_queries += len(items)
        scores = self._model([c for c, _ in items])
        out = []
        for (columns, modified), s in zip(items, scores):
            obj = self.goal.objective(s, self.orig_score, self.gold)
            out.append(Node(columns, modified, s, obj, self.goal.done(obj)))
        return out, self.num_queries == self.query_budget

    # ---------------------------------------------------------------- transformations
    def _candidates(self, node: Node, index: int | None = None) -> list[tuple[tuple[str, ...], frozenset[int]]]:
        space = self.space
        indices = space.modifiable(node.columns, node.modified, None if index is None else [index])
        if not indices:
            return []
        words = space.analyse(node.columns).words
        current = node.text
        out = []
        for k in indices:
            for new in space.rewrites(words[k]):
                columns = space.replace_word(node.columns, k, new)
                if "\n".join(columns) != current and space.within_edit_distance(self.original, columns):
                    out.append((columns, node.modified | {k}))
        out.sort(key=lambda c: "\n".join(c[0]))
        return out

    # ---------------------------------------------------------------- searches
    def run(self, columns: tuple[str, ...], gold: float | None, method: str = "greedy",
            beam_width: int = 4) -> Outcome:
        self.original = tuple(columns)
        self.gold = gold
        self.num_queries = 0
        self._cache: dict[tuple[str, ...], float] = {}
        self.orig_score = self._model([self.original])[0]
        (initial,), _ = self._results([(self.original, frozenset())])
        if method == "greedy":
            final = self._greedy_wir(initial)
        elif method == "beam":
            final = self._beam(initial, beam_width)
        else:
            raise ValueError(f"unknown search {method!r}")
        return Outcome(initial, final, self.num_queries)

    def _greedy_wir(self, initial: Node) -> Node:
        space = self.space
        indices_to_order = list(space.modifiable(initial.columns, initial.modified))
        leave_one = [(space.delete_word(initial.columns, i), initial.modified) for i in indices_to_order]
        results, search_over = self._results(leave_one)
        index_scores = np.array([r.objective for r in results])
        index_order = np.array(indices_to_order)[(-index_scores).argsort()]
        i = 0
        cur = initial
        while i < len(index_order) and not search_over:
            candidates = self._candidates(cur, int(index_order[i]))
            i += 1
            if not candidates:
                continue
            results, search_over = self._results(candidates)
            results = sorted(results, key=lambda r: -r.objective)
            if results[0].objective > cur.objective:
                cur = results[0]
            else:
                continue
            if cur.done:
                return cur
        return cur

    def _beam(self, initial: Node, beam_width: int) -> Node:
        beam = [initial]
        best = initial
        while not best.done:
            potential = []
            for node in beam:
                potential += self._candidates(node)
            if not potential:
                return best
            results, search_over = self._results(potential)
            scores = np.array([r.objective for r in results])
            best = results[scores.argmax()]
            if search_over:
                return best
            beam = [results[i] for i in (-scores).argsort()[:beam_width]]
        return best
