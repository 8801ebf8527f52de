"""Tables for the robust-training experiment (experiments/robust_training.sh → docs/training.md).

    python experiments/training_table.py results/training [--models DIR] > results/training/table.md

Reads `e5-small-{method}-{lang}.json` written by `afroadv evaluate` (and, for reference, the
untrained model's `results/e5-small-{lang}.json`), and prints Markdown:

1. per language and recipe: clean Spearman ×100 with its 95% CI, and the drop under each recipe
   with its paired-bootstrap 95% CI, for every method;
2. the paired comparison that decides "did robust training reduce the drop?": for each method
   against `plain`, Δdrop = drop(method) − drop(plain) and Δclean, with a 95% CI from a bootstrap
   that resamples the same test pairs for both models (1000 resamples, seed 0). This needs the
   per-pair scores, so the trained model folders (`--models`, default ~/.cache/afroadv/trained)
   are re-scored through the embedding cache that the evaluation filled (no model compute when the
   cache is warm). The comparison is also written to `comparison.json` beside the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

METHODS = ("plain", "rs-da", "codeswitch-aug")
LANGS = ("afr", "amh", "hau", "kin")
N_BOOT = 1000


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _rows(doc: dict | None) -> dict[str, dict]:
    return {r["recipe"]: r for r in (doc or {}).get("results", [])}


def _fmt_clean(r: dict | None) -> str:
    if not r:
        return "–"
    lo, hi = r["spearman_ci"]
    return f"{r['spearman']:.1f} [{lo:.1f}, {hi:.1f}]"


def _fmt_drop(r: dict | None) -> str:
    if not r:
        return "–"
    lo, hi = r["drop_ci"]
    mark = "" if lo <= 0 <= hi else " *"
    return f"{r['drop']:.1f} [{lo:.1f}, {hi:.1f}]{mark}"


def _spearman_rows(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Spearman ×100 of each row of (resamples × n) arrays."""
    g, p = rankdata(gold, axis=-1), rankdata(pred, axis=-1)
    g = g - g.mean(axis=-1, keepdims=True)
    p = p - p.mean(axis=-1, keepdims=True)
    den = np.sqrt((g * g).sum(-1) * (p * p).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100 * np.where(den > 0, (g * p).sum(-1) / den, np.nan)


def paired_comparison(models_dir: Path, docs: dict) -> dict:
    """Δclean and Δdrop of each method against plain, same bootstrap resamples for both models."""
    from afroadv.evaluate import build_sets
    from afroadv.models import load_encoder

    out: dict = {}
    encoders = {}
    for m in METHODS:
        folder = models_dir / f"e5-small-{m}"
        if not folder.is_dir():
            print(f"(no model folder {folder}: paired comparison skipped)", file=sys.stderr)
            return {}
        encoders[m] = load_encoder(str(folder), batch_size=32)
    for lang in LANGS:
        ref = docs.get(("plain", lang))
        if not ref:
            continue
        recipes = [r for r in _rows(ref) if r != "clean"]
        sets = build_sets(lang, recipes, None, "test", 0, None)
        for s in sets:
            gold = np.asarray(s.scores, float)
            idx = np.random.default_rng(0).integers(0, len(gold), size=(N_BOOT, len(gold)))
            stats = {}
            for m, enc in encoders.items():
                c = enc.score_pairs(s.clean).astype(float)
                p = enc.score_pairs(s.perturbed).astype(float)
                clean_b = _spearman_rows(gold[idx], c[idx])
                pert_b = _spearman_rows(gold[idx], p[idx])
                full_c = float(_spearman_rows(gold[None], c[None])[0])
                full_p = float(_spearman_rows(gold[None], p[None])[0])
                stats[m] = (full_c, full_c - full_p, clean_b, clean_b - pert_b)
            for m in METHODS[1:]:
                dc = stats[m][0] - stats["plain"][0]
                dd = stats[m][1] - stats["plain"][1]
                dc_b = stats[m][2] - stats["plain"][2]
                dd_b = stats[m][3] - stats["plain"][3]
                out.setdefault(lang, {}).setdefault(s.recipe, {})[m] = {
                    "delta_clean": round(dc, 2), "delta_clean_ci": [round(float(x), 2) for x in np.nanpercentile(dc_b, [2.5, 97.5])],
                    "delta_drop": round(dd, 2), "delta_drop_ci": [round(float(x), 2) for x in np.nanpercentile(dd_b, [2.5, 97.5])],
                    "n": len(gold),
                }
    return out


def _fmt_delta(v: float, ci: list[float]) -> str:
    lo, hi = ci
    mark = "" if lo <= 0 <= hi else " *"
    return f"{v:+.1f} [{lo:+.1f}, {hi:+.1f}]{mark}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--models", type=Path, default=Path.home() / ".cache" / "afroadv" / "trained")
    ap.add_argument("--baseline", type=Path, default=Path("results"), help="folder with the untrained e5-small-{lang}.json")
    ap.add_argument("--no-paired", action="store_true")
    args = ap.parse_args()

    docs = {(m, lang): _load(args.results / f"e5-small-{m}-{lang}.json") for m in METHODS for lang in LANGS}
    docs = {k: v for k, v in docs.items() if v}
    base = {lang: _load(args.baseline / f"e5-small-{lang}.json") for lang in LANGS}
    train = {m: _load(args.results / f"e5-small-{m}.train.json") for m in METHODS}

    lines = ["### Training runs", "", "| method | examples (pairs + copies) | copies changed | steps | final loss | training time |",
             "|---|---:|---:|---:|---:|---:|"]
    for m in METHODS:
        t = train.get(m)
        if t:
            st, tr = t["augmentation_stats"], t["training"]
            lines.append(f"| {m} | {st['examples']} ({st['originals']} + {st['copies']}) | "
                         f"{100 * st['copies_changed_share']:.0f}% | {tr['global_steps']} | {tr['final_loss']} | {tr['seconds'] / 60:.1f} min |")
    lines += ["", "### Clean Spearman and drop per recipe (Spearman ×100, 95% CI; * = CI excludes 0)", "",
              "| lang | recipe | e5-small, not fine-tuned | " + " | ".join(METHODS) + " |",
              "|---|---|---|" + "---|" * len(METHODS)]
    summary = {m: {"clean": [], "drops": [], "sig": 0, "cells": 0} for m in METHODS}
    for lang in LANGS:
        per = {m: _rows(docs.get((m, lang))) for m in METHODS}
        b = _rows(base.get(lang))
        recipes = list(dict.fromkeys([*b, *(r for m in METHODS for r in per[m])]))
        for recipe in recipes:
            fmt = _fmt_clean if recipe == "clean" else _fmt_drop
            what = "clean Spearman" if recipe == "clean" else f"drop: {recipe}"
            lines.append(f"| {lang} | {what} | {fmt(b.get(recipe))} | " + " | ".join(fmt(per[m].get(recipe)) for m in METHODS) + " |")
            for m in METHODS:
                r = per[m].get(recipe)
                if not r:
                    continue
                if recipe == "clean":
                    summary[m]["clean"].append(r["spearman"])
                else:
                    summary[m]["drops"].append(r["drop"])
                    summary[m]["cells"] += 1
                    summary[m]["sig"] += r["drop_ci"][0] > 0
    lines += ["", "### Summary over languages", "",
              "| method | mean clean Spearman | mean drop (all lang × recipe cells) | cells with a drop whose CI excludes 0 |",
              "|---|---:|---:|---:|"]
    for m in METHODS:
        s = summary[m]
        if s["clean"]:
            lines.append(f"| {m} | {np.mean(s['clean']):.1f} ({len(s['clean'])} langs) | {np.mean(s['drops']):.2f} | {s['sig']} of {s['cells']} |")

    if not args.no_paired and docs:
        comp = paired_comparison(args.models, docs)
        if comp:
            (args.results / "comparison.json").write_text(json.dumps(comp, indent=2) + "\n", encoding="utf-8")
            lines += ["", "### Paired comparison with plain (same test pairs, same bootstrap resamples; 95% CI; * = CI excludes 0)",
                      "", "Δdrop < 0 means the method lost less than plain under that recipe; Δclean > 0 means it scores higher on clean text.", "",
                      "| lang | recipe | " + " | ".join(f"{m} − plain" for m in METHODS[1:]) + " |",
                      "|---|---|" + "---|" * (len(METHODS) - 1)]
            for lang, recs in comp.items():
                first = next(iter(recs.values()))
                lines.append(f"| {lang} | Δclean | " + " | ".join(
                    _fmt_delta(first[m]["delta_clean"], first[m]["delta_clean_ci"]) for m in METHODS[1:]) + " |")
                for recipe, cell in recs.items():
                    lines.append(f"| {lang} | Δdrop: {recipe} | " + " | ".join(
                        _fmt_delta(cell[m]["delta_drop"], cell[m]["delta_drop_ci"]) for m in METHODS[1:]) + " |")
            better = {m: sum(c[m]["delta_drop_ci"][1] < 0 for r in comp.values() for c in r.values()) for m in METHODS[1:]}
            worse = {m: sum(c[m]["delta_drop_ci"][0] > 0 for r in comp.values() for c in r.values()) for m in METHODS[1:]}
            total = sum(len(r) for r in comp.values())
            mean_dd = {m: np.mean([c[m]["delta_drop"] for r in comp.values() for c in r.values()]) for m in METHODS[1:]}
            lines += ["", "| method | mean Δdrop vs plain | cells with a significantly smaller drop | significantly larger drop |",
                      "|---|---:|---:|---:|"]
            for m in METHODS[1:]:
                lines.append(f"| {m} | {mean_dd[m]:+.2f} | {better[m]} of {total} | {worse[m]} of {total} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
