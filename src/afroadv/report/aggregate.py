"""Orderings and means shared by the tables and the plots, so both show the same numbers."""

from __future__ import annotations

import math

from afroadv.report.load import CLEAN

Z95 = 1.959964


def recipe_order(recipes) -> list[str]:
    return sorted(set(recipes), key=lambda r: (r != CLEAN, r))


def models_in_order(rows: list[dict]) -> tuple[list[str], dict[str, int | None]]:
    """Models by parameter count (unknown last), then first appearance; their last known size."""
    first: dict[str, int] = {}
    params: dict[str, int | None] = {}
    for i, r in enumerate(rows):
        first.setdefault(r["model"], i)
        if r["model_params"] is not None or r["model"] not in params:
            params[r["model"]] = r["model_params"]
    models = sorted(first, key=lambda m: (params[m] is None, params[m] or 0, first[m]))
    return models, params


def mean_with_ci(items: list[tuple[float, tuple[float, float] | None]]):
    """Mean of per-set drops; CI from the per-set CIs as independent normal errors (exact for one set)."""
    k = len(items)
    mean = sum(v for v, _ in items) / k
    if any(ci is None for _, ci in items):
        return mean, None
    if k == 1:
        return mean, items[0][1]
    se = math.sqrt(sum(((hi - lo) / (2 * Z95)) ** 2 for _, (lo, hi) in items)) / k
    return mean, (mean - Z95 * se, mean + Z95 * se)


def mean_drops(task_rows: list[dict], models: list[str]) -> dict[str, dict]:
    """recipe -> {"sets": [...common sets...], model: (mean, ci)}: the mean over the language sets
    that every model evaluated under that recipe has, so models are compared on the same sets."""
    idx = {(r["model"], r["lang"], r["dataset"], r["recipe"]): r for r in task_rows}
    out: dict[str, dict] = {}
    for rec in recipe_order(r["recipe"] for r in task_rows):
        if rec == CLEAN:
            continue
        have = {m: {(r["lang"], r["dataset"]) for r in task_rows if r["model"] == m and r["recipe"] == rec and r["drop"] is not None} for m in models}
        have = {m: s for m, s in have.items() if s}
        if not have:
            continue
        common = sorted(set.intersection(*have.values()))
        entry: dict = {"sets": common}
        if common:
            for m in have:
                entry[m] = mean_with_ci([(idx[(m, l, d, rec)]["drop"], idx[(m, l, d, rec)]["drop_ci"]) for l, d in common])
        out[rec] = entry
    return out


def set_labels(sets: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Language code alone, or lang/dataset where one language has several sets."""
    per_lang: dict[str, int] = {}
    for lang, _ in sets:
        per_lang[lang] = per_lang.get(lang, 0) + 1
    return {(l, d): l if per_lang[l] == 1 else f"{l}/{d}" for l, d in sets}
