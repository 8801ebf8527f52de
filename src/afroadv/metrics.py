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
