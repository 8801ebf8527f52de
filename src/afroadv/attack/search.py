"""afroadv's attack engine: the decisions of TextAttack's greedy word-importance search and beam
search, taken on plain tuples of strings (afroadv's own code; the algorithms are TextAttack's).

Why not run TextAttack's `Attack` itself: for every candidate it builds an `AttackedText` (a regex
split of every word, a rebuilt string, index maps), runs the constraints through caches keyed by
those objects, and re-sorts; on a small encoder that bookkeeping is a visible share of the time,
and TextAttack re-queries its model wrapper per 32-pair batch and clears its model cache after
every example. The searches here, with none of that:

- greedy (TextAttack's `GreedyWordSwapWIR(wir_method="delete")`): rank the attackable words by how
  far deleting each moves the goal, then walk that ranking, at each word keeping the best rewrite
  if it improves the objective, and stop at the first success;
- beam (its `BeamSearch(beam_width=K)`): expand every beam text by every allowed rewrite, keep the
  K best;
- queries as its goal function counts them (cached repeats count), with the query budget that
  truncates a batch and ends the search;
- candidates as its `Attack` filters them: equal to the current text dropped, the edit-distance
  constraint against the original, sorted by text.

The words are the space's (core.AttackSpace): afroadv's tokeniser by default. With
`words="textattack"` the space indexes TextAttack's words and makes its text edits, and with the
same goal and numpy tie-breaking the result is the one TextAttack's own `Attack` returns with the
afroadv components (tests/test_attack_textattack.py and benchmarks/bench_attack.py check that it is).
WIR `unk` (TextAttack's default) is not offered: it inserts BERT's "[UNK]", which XLM-R-family
tokenisers split into ordinary pieces instead of their `<unk>`; deletion needs no model token.

Memory: a step builds only the texts it can still query (the query budget truncates every batch,
so the rest would be thrown away unseen), and the per-example score cache is keyed by digests;
what is held at once is about (texts queried in a step) × (text length), never (words × rewrites ×
beam) × (text length).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterator
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
        """TextAttack's per-example model cache: only unseen texts reach the model. Keyed by a
        digest, so a long run of queries on long texts does not keep every text alive."""
        cache = self._cache
        keys = [_digest(c) for c in items]
        new: dict[bytes, tuple[str, ...]] = {}
        for k, c in zip(keys, items):
            if k not in cache and k not in new:
                new[k] = c
        if new:
            for k, s in zip(new, self._score_fn(list(new.values()))):
                cache[k] = float(s)
        return [cache[k] for k in keys]

    def _remaining(self) -> int | None:
        """Queries left in the budget (None: no budget)."""
        if self.query_budget == float("inf"):
            return None
        return max(0, int(self.query_budget) - self.num_queries)

    def _results(self, items: list[tuple[tuple[str, ...], frozenset[int]]]) -> list[Node]:
        """Score candidate texts as queries: only as many as the query budget has left are scored
        (and counted); the rest are dropped, as TextAttack's goal function drops them."""
        left = self._remaining()
        if left is not None:
            items = items[:left]
        self.num_queries += len(items)
        scores = self._model([c for c, _ in items])
        out = []
        for (columns, modified), s in zip(items, scores):
            obj = self.goal.objective(s, self.orig_score, self.gold)
            out.append(Node(columns, modified, s, obj, self.goal.done(obj)))
        return out

    def _spent(self) -> bool:
        return self._remaining() == 0

    # ---------------------------------------------------------------- transformations
    def _candidates(self, node: Node, index: int | None = None,
                    limit: int | None = None) -> list[tuple[tuple[str, ...], frozenset[int]]]:
        """The node's candidates sorted by text (TextAttack's order); with `limit`, only the first
        `limit` of them, selected with a bounded heap so the others are never held at once."""
        if limit is not None and limit <= 0:
            return []
        found = self._each_candidate(node, index)
        if limit is None:
            return sorted(found, key=_text)
        return heapq.nsmallest(limit, found, key=_text)  # == sorted(...)[:limit], stable

    def _each_candidate(self, node: Node, index: int | None) -> Iterator[tuple[tuple[str, ...], frozenset[int]]]:
        space = self.space
        indices = space.modifiable(node.columns, node.modified, None if index is None else [index])
        if not indices:
            return
        words = space.analyse(node.columns).words
        current = node.text
        for k in indices:
            for new in space.rewrites(words[k]):
                columns = space.replace_word(node.columns, k, new)
                if "\n".join(columns) != current and space.within_edit_distance(self.original, columns):
                    yield columns, node.modified | {k}

    # ---------------------------------------------------------------- searches
    def run(self, columns: tuple[str, ...], gold: float | None, method: str = "greedy",
            beam_width: int = 4) -> Outcome:
        self.original = tuple(columns)
        self.gold = gold
        self.num_queries = 0
        self._cache: dict[bytes, float] = {}
        self.orig_score = self._model([self.original])[0]
        (initial,) = self._results([(self.original, frozenset())])
        if method == "greedy":
            final = self._greedy_wir(initial)
        elif method == "beam":
            final = self._beam(initial, beam_width)
        else:
            raise ValueError(f"unknown search {method!r}")
        return Outcome(initial, final, self.num_queries)

    def _importance_order(self, node: Node) -> list[int]:
        """The attackable words, the one whose deletion moves the goal most first (ties in numpy's
        argsort order). Only as many deletions as the query budget allows are built and ranked."""
        indices = list(self.space.modifiable(node.columns, node.modified))
        left = self._remaining()
        if left is not None:
            indices = indices[:left]
        deleted = self._results([(self.space.delete_word(node.columns, k), node.modified) for k in indices])
        objectives = np.array([r.objective for r in deleted], dtype=float)
        return [indices[i] for i in (-objectives).argsort()]

    def _greedy_wir(self, initial: Node) -> Node:
        """Word by word in importance order, keep the best rewrite of the word when it beats the
        current text; stop at the first success or when the query budget is spent."""
        current = initial
        for k in self._importance_order(initial):
            if self._spent():
                break
            found = self._candidates(current, k, self._remaining())
            if not found:
                continue
            best = max(self._results(found), key=lambda r: r.objective)  # the first of equals
            if best.objective > current.objective:
                current = best
                if current.done:
                    break
        return current

    def _beam(self, initial: Node, beam_width: int) -> Node:
        """Expand every text in the beam by every allowed rewrite and keep the `beam_width` best. The
        answer is the best text of the last step scored (not of all steps), until a success, nothing
        left to try, or the query budget spent — including by the original pair's own query."""
        beam = [initial]
        best = initial
        while not best.done and not self._spent():
            left = self._remaining()
            found: list[tuple[tuple[str, ...], frozenset[int]]] = []
            for node in beam:
                found += self._candidates(node, None, None if left is None else left - len(found))
            if not found:
                break
            results = self._results(found)
            objectives = np.array([r.objective for r in results], dtype=float)
            best = results[int(objectives.argmax())]
            beam = [results[i] for i in (-objectives).argsort()[:beam_width]]
        return best


def _text(candidate: tuple[tuple[str, ...], frozenset[int]]) -> str:
    return "\n".join(candidate[0])


def _digest(columns: tuple[str, ...]) -> bytes:
    """16 bytes naming a pair text exactly (each column length-prefixed, so no two texts share one)."""
    h = hashlib.blake2b(digest_size=16)
    for c in columns:
        b = c.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.digest()
