"""Graded-relatedness pairs from document structure: ordinal gold where no gold STS exists.

A parallel corpus whose sentences belong to documents (NTREX-128 news articles, Bible chapters)
says, without any annotator, that a sentence is more related to its own translation than to a
neighbouring sentence of the same document, and more related to that than to a sentence of another
document. Each anchor sentence X of the set gives three pairs, always X against a translation on
the other side, so the languages of the two sides never vary — only relatedness does:

    level 2  X with its own translation
    level 1  X with the translation of a neighbouring sentence of the same document (previous or next)
    level 0  X with the translation of a sentence from another document

The level is an *ordinal* relation, never a similarity score: evaluate uses only its order
(Spearman against the level). Recipes perturb the X side only, as for bitext.

Sampling: every choice of an anchor (its neighbour, its random sentence, its place in the order)
comes from a stream named by (seed, the anchor's key), so a unit's pairs do not depend on which
other lines are present; anchors come in seeded random order, three pairs each (levels 2, 1, 0), so
the first N pairs (`--limit N`, `size`) are a random sample with balanced levels.
"""

from __future__ import annotations

from dataclasses import dataclass

from afroadv.data.pairs import Pair
from afroadv.errors import AfroadvError

LEVELS = (2, 1, 0)
TASK = "ordinal"


@dataclass(frozen=True)
class Unit:
    """One sentence of a document: `key` (its line number or verse id) names its pairs and streams."""

    key: str
    doc: str
    text: str  # the X side (perturbed by recipes)
    other: str  # its translation (the untouched side)


def graded_pairs(units: list[Unit], lang: str, id_prefix: str, seed: int = 0, size: int | None = None) -> list[Pair]:
    """Level-2/1/0 pairs for every usable anchor (see the module docstring), `size` pairs at most.

    An anchor is used when its document has another sentence, its X text was not an earlier
    anchor's, and its three partner texts differ, so no pair (as text) is repeated and none holds
    two levels."""
    from afroadv.perturb.recipe import derived_rng

    docs: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        docs.setdefault(u.doc, []).append(i)
    if len(docs) < 2:
        raise AfroadvError(f"{id_prefix}: graded pairs need sentences from at least two documents")
    position = {i: (doc, j) for doc, members in docs.items() for j, i in enumerate(members)}
    order = sorted(range(len(units)), key=lambda i: (derived_rng(seed, "graded-order", units[i].key).random(), i))
    pairs: list[Pair] = []
    seen_x: set[str] = set()
    for i in order:
        u = units[i]
        doc, j = position[i]
        members = docs[doc]
        neighbours = [members[k] for k in (j - 1, j + 1) if 0 <= k < len(members)]
        if not neighbours or u.text in seen_x:
            continue
        rng = derived_rng(seed, "graded", u.key)
        near = units[rng.choice(neighbours)]
        far = units[rng.randrange(len(units))]
        while far.doc == u.doc:  # rejection: another document is guaranteed to exist
            far = units[rng.randrange(len(units))]
        partners = (u.other, near.other, far.other)
        if len(set(partners)) < 3:
            continue
        seen_x.add(u.text)
        pairs.extend(Pair(f"{id_prefix}-{u.key}-{level}", lang, TASK, u.text, other, float(level))
                     for level, other in zip(LEVELS, partners))
        if size is not None and len(pairs) >= size:
            return pairs[:size]
    if not pairs:
        raise AfroadvError(f"{id_prefix}: no sentence has a neighbour in its document")
    return pairs
