"""Across seeds: the drop of the same set under several --seed values (another draw of the
perturbation), from files of one seed each or from the `per_seed` values of a file made with
`--seeds` (whose pooled CI already covers both). The bootstrap CI covers which pairs were sampled;
this spread covers which words the recipe happened to change."""

from __future__ import annotations

from afroadv.report.load import CLEAN, ResultsFile, row_key
from afroadv.report.tables import DASH, Table, fmt


def seeds_table(loaded: list[ResultsFile]) -> Table | None:
    """Each set's drop per seed, mean and spread; None when no set has two seeds."""
    drops: dict[tuple, dict] = {}
    for rf in loaded:
        seed = rf.manifest.get("seed")
        one = isinstance(seed, int) and not isinstance(seed, bool)
        for row in rf.rows:
            if row["recipe"] == CLEAN:
                continue
            by_seed = row.get("per_seed_drop") or ({seed: row.get("drop")} if one else {})
            for s, drop in by_seed.items():
                if drop is not None:
                    drops.setdefault(row_key(row), {})[s] = drop  # a later file wins per seed
    multi = {k: v for k, v in drops.items() if len(v) >= 2}
    if not multi:
        return None
    seeds = sorted({s for v in multi.values() for s in v})
    body = []
    for key in sorted(multi):
        by_seed = multi[key]
        vals = list(by_seed.values())
        mean = sum(vals) / len(vals)
        body.append([*key, *[fmt(by_seed.get(s)) if s in by_seed else DASH for s in seeds],
                     (fmt(mean), mean), fmt(max(vals) - min(vals))])  # fmt: skip
    return Table(["model", "lang", "dataset", "recipe", *[f"seed {s}" for s in seeds], "mean", "spread"], body, 4,
                 "Drop (clean − perturbed) of the same set under each --seed, their mean, and max − min.")
