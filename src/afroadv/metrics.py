"""Metrics and their uncertainty: correlations ×100, retrieval accuracy, and paired bootstrap CIs.

A drop's CI resamples the *same* pairs for clean and perturbed scores, so the interval reflects
the change caused by the perturbation, not the spread of two independent samples. numpy/scipy only.

Pooled draws. The perturbed scores may hold several draws of the perturbation (`--seeds`), one row
per draw over the same pairs, shape (draws, n). The measure is then the mean over draws, and each
bootstrap replicate resamples the pairs (the same indices in every draw: the draws share their
originals) and also the draws, with replacement, averaging the measure over the drawn draws
(`_pooled_replicates`). So the CI covers both which pairs were sampled and which words the recipe
happened to change; with one draw it is the pairs-only CI exactly (the same replicates).
"""

from __future__ import annotations

import numpy as np

N_BOOTSTRAP = 1000
MIN_BOOTSTRAP = 20  # fewer resamples cannot place the 2.5% and 97.5% tails of a 95% interval


def _rank(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of a with the same row of b (rows = bootstrap samples)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (a * b).sum(axis=-1) / den, np.nan)


def spearman(gold, pred) -> float:
    return float(100 * _pearson_rows(_rank(np.asarray(gold, float)), _rank(np.asarray(pred, float))))


def pearson(gold, pred) -> float:
    return float(100 * _pearson_rows(np.asarray(gold, float), np.asarray(pred, float)))


def bootstrap_indices(n: int, n_boot: int = N_BOOTSTRAP, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def as_draws(x) -> np.ndarray:
    """Perturbed values as (draws, n): one draw (n,) becomes one row."""
    x = np.asarray(x, float)
    return x[None] if x.ndim == 1 else x


def _pooled_replicates(stat, n: int, n_draws: int, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap replicates over pairs × draws. `stat(idx)` gives each draw's measure on each pair
    resample (idx: n_boot × n pair indices, shared by the draws) as (n_draws, n_boot); replicate b then
    averages the measure over n_draws draws picked with replacement. The pair indices are
    `bootstrap_indices(n, n_boot, seed)`, drawn first from the same stream, and one draw always picks
    itself, so a single draw gives exactly the pairs-only replicates."""
    rng = np.random.default_rng(seed)
    per_draw = np.asarray(stat(rng.integers(0, n, size=(n_boot, n))), float).reshape(n_draws, n_boot)
    picks = rng.integers(0, n_draws, size=(n_boot, n_draws))
    return per_draw[picks, np.arange(n_boot)[:, None]].mean(axis=1)


def paired_drop_ci(
    gold, clean, perturbed, metric: str = "spearman", n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05
) -> tuple[float, tuple[float, float]]:
    """drop = metric(gold, clean) − metric(gold, perturbed), with a percentile CI over paired resamples
    (`perturbed` of shape (draws, n): the mean drop over draws, CI over pairs × draws)."""
    gold, clean, perturbed = np.asarray(gold, float), np.asarray(clean, float), as_draws(perturbed)
    f = spearman if metric == "spearman" else pearson
    drop = f(gold, clean) - np.mean([f(gold, p) for p in perturbed])

    def stat(idx):
        g, c, p = gold[idx], clean[idx], perturbed[:, idx]
        if metric == "spearman":
            g, c, p = _rank(g), _rank(c), _rank(p)
        return 100 * (_pearson_rows(g, c) - _pearson_rows(g, p))

    drops = _pooled_replicates(stat, len(gold), len(perturbed), n_boot, seed)
    lo, hi = np.nanpercentile(drops, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(drop), (float(lo), float(hi))


def metric_ci(gold, pred, metric: str = "spearman", n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05):
    """Percentile CI of metric(gold, pred) ×100 (`pred` of shape (draws, n): of its mean over draws)."""
    gold, pred = np.asarray(gold, float), as_draws(pred)

    def stat(idx):
        g, p = gold[idx], pred[:, idx]
        if metric == "spearman":
            g, p = _rank(g), _rank(p)
        return 100 * _pearson_rows(g, p)

    vals = _pooled_replicates(stat, len(gold), len(pred), n_boot, seed)
    lo, hi = np.nanpercentile(vals, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def retrieval_hits(src_emb: np.ndarray, tgt_emb: np.ndarray) -> np.ndarray:
    """Per query i: 1 if its nearest target (cosine; embeddings L2-normalised) is target i."""
    sims = src_emb @ tgt_emb.T
    return (sims.argmax(axis=1) == np.arange(len(src_emb))).astype(float)


def accuracy_drop_ci(clean_hits, perturbed_hits, n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05):
    """drop in accuracy (×100) with a paired bootstrap CI over queries (`perturbed_hits` of shape
    (draws, n): the mean drop over draws, CI over queries × draws)."""
    c, p = np.asarray(clean_hits, float), as_draws(perturbed_hits)
    drop = 100 * (c.mean() - p.mean(axis=1).mean())
    drops = _pooled_replicates(lambda idx: 100 * (c[idx].mean(axis=1) - p[:, idx].mean(axis=-1)), len(c), len(p), n_boot, seed)
    lo, hi = np.percentile(drops, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(drop), (float(lo), float(hi))


def invariance_score(self_cos, rand_cos) -> float | None:
    """Calibrated invariance on 0–100: 100 × (mean self − mean random) / (1 − mean random).

    `self_cos[i]` = cos(x_i, x′_i), `rand_cos[i]` = x_i's cosine to random other sentences of the set.
    100: the perturbed sentence is as close to its original as the original itself; 0: no closer than
    a random sentence of the set (below 0: further). Dividing by the room above the random level makes
    models whose random pairs sit at 0.2 or at 0.9 comparable; None when random pairs are identical."""
    s, r = float(np.mean(self_cos)), float(np.mean(rand_cos))
    return None if r >= 1.0 - 1e-9 else 100.0 * (s - r) / (1.0 - r)


def invariance_ci(self_cos, rand_cos, n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05):
    """Percentile CI of `invariance_score` over bootstrap resamples of sentences (each resample keeps
    a sentence's self and random cosines together); None when undefined. `self_cos` (and `rand_cos`,
    where a draw has its own random partners) of shape (draws, n): of the mean score over draws."""
    s, r = as_draws(self_cos), as_draws(rand_cos)

    def stat(idx):
        ms, mr = s[:, idx].mean(axis=-1), r[:, idx].mean(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(mr < 1.0 - 1e-9, 100.0 * (ms - mr) / (1.0 - mr), np.nan)

    vals = _pooled_replicates(stat, s.shape[1], len(s), n_boot, seed)
    if np.isnan(vals).all():
        return None
    lo, hi = np.nanpercentile(vals, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def mean_cos_to_others(emb: np.ndarray) -> np.ndarray:
    """Per row i of L2-normalised embeddings: the mean cosine to every other row (the random-pair
    level of the whole set, exactly, in O(n·d) instead of n²)."""
    emb = np.asarray(emb, np.float64)
    n = len(emb)
    own = (emb * emb).sum(axis=1)
    return (emb @ emb.sum(axis=0) - own) / (n - 1)


def pool_retrieval_hits(queries: np.ndarray, targets: np.ndarray, k: int, seed: int = 0, chunk: int = 256) -> np.ndarray:
    """Self-retrieval among k candidates: per query i, 1 if target i is at least as close (cosine) as
    each of the k − 1 targets that follow it in a seeded random circular order of the set.

    The circular window gives every query exactly min(k, n) candidates, all distinct, and every target
    the same number of appearances as a distractor. A tie counts as found: an identical text elsewhere
    in the set is the same sentence."""
    n = len(targets)
    k = min(k, n)
    order = np.random.default_rng(seed).permutation(n)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    pool = order[(pos[:, None] + np.arange(k)[None, :]) % n]  # column 0 is the query's own target
    hits = np.empty(n)
    for lo in range(0, n, chunk):
        q, p = queries[lo : lo + chunk], targets[pool[lo : lo + chunk]]
        sims = np.einsum("cd,ckd->ck", q, p)
        hits[lo : lo + chunk] = sims[:, 0] >= sims[:, 1:].max(axis=1, initial=-np.inf)
    return hits


def mean_ci(values, n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile bootstrap CI of a mean (e.g. of per-query hits). `values` of shape (draws, n): of the
    mean over draws, NaN marking a unit a draw did not measure (a directional pair the draw did not
    change); a resample that holds no measured unit of a draw is left out."""
    v = as_draws(values)
    if not np.isnan(v).any():
        means = _pooled_replicates(lambda idx: v[:, idx].mean(axis=-1), v.shape[1], len(v), n_boot, seed)
        lo, hi = np.percentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
        return float(lo), float(hi)
    measured = ~np.isnan(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = _pooled_replicates(lambda idx: np.nansum(v[:, idx], axis=-1) / measured[:, idx].sum(axis=-1),
                                   v.shape[1], len(v), n_boot, seed)
    lo, hi = np.nanpercentile(means, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)
