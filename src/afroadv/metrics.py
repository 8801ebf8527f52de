"""Metrics and their uncertainty: correlations ×100, retrieval accuracy, and paired bootstrap CIs.

A drop's CI resamples the *same* pairs for clean and perturbed scores, so the interval reflects
the change caused by the perturbation, not the spread of two independent samples. numpy/scipy only.
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


def paired_drop_ci(
    gold, clean, perturbed, metric: str = "spearman", n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05
) -> tuple[float, tuple[float, float]]:
    """drop = metric(gold, clean) − metric(gold, perturbed), with a percentile CI over paired resamples."""
    gold, clean, perturbed = (np.asarray(x, float) for x in (gold, clean, perturbed))
    f = spearman if metric == "spearman" else pearson
    drop = f(gold, clean) - f(gold, perturbed)
    idx = bootstrap_indices(len(gold), n_boot, seed)
    g, c, p = gold[idx], clean[idx], perturbed[idx]
    if metric == "spearman":
        g, c, p = _rank(g), _rank(c), _rank(p)
    drops = 100 * (_pearson_rows(g, c) - _pearson_rows(g, p))
    lo, hi = np.nanpercentile(drops, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(drop), (float(lo), float(hi))


def metric_ci(gold, pred, metric: str = "spearman", n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05):
    gold, pred = np.asarray(gold, float), np.asarray(pred, float)
    idx = bootstrap_indices(len(gold), n_boot, seed)
    g, p = gold[idx], pred[idx]
    if metric == "spearman":
        g, p = _rank(g), _rank(p)
    vals = 100 * _pearson_rows(g, p)
    lo, hi = np.nanpercentile(vals, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def retrieval_hits(src_emb: np.ndarray, tgt_emb: np.ndarray) -> np.ndarray:
    """Per query i: 1 if its nearest target (cosine; embeddings L2-normalised) is target i."""
    sims = src_emb @ tgt_emb.T
    return (sims.argmax(axis=1) == np.arange(len(src_emb))).astype(float)


def accuracy_drop_ci(clean_hits, perturbed_hits, n_boot: int = N_BOOTSTRAP, seed: int = 0, alpha: float = 0.05):
    """drop in accuracy (×100) with a paired bootstrap CI over queries."""
    c, p = np.asarray(clean_hits, float), np.asarray(perturbed_hits, float)
    drop = 100 * (c.mean() - p.mean())
    idx = bootstrap_indices(len(c), n_boot, seed)
    drops = 100 * (c[idx].mean(axis=1) - p[idx].mean(axis=1))
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
    a sentence's self and random cosines together); None when undefined."""
    s, r = np.asarray(self_cos, float), np.asarray(rand_cos, float)
    idx = bootstrap_indices(len(s), n_boot, seed)
    ms, mr = s[idx].mean(axis=1), r[idx].mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        vals = np.where(mr < 1.0 - 1e-9, 100.0 * (ms - mr) / (1.0 - mr), np.nan)
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
    """Percentile bootstrap CI of a mean (e.g. of per-query hits)."""
    v = np.asarray(values, float)
    lo, hi = np.percentile(v[bootstrap_indices(len(v), n_boot, seed)].mean(axis=1), [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)
