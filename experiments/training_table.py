"""Tables for the robust-training experiment (experiments/robust_training.sh → docs/training.md).

    python experiments/training_table.py results/training [--models DIR] [--trained charnoise,codeswitch,translit]

Reads `e5-small-{method}-{lang}.json` (method: base = e5-small before fine-tuning, plain, rs-da,
codeswitch-aug, consistency) written by `afroadv evaluate --seeds ...` and the `*.train.json`
records, and prints Markdown:

1. the training runs (data, steps, loss, time);
2. per language and recipe: clean Spearman ×100 and the drop under each recipe (mean over the
   seeds' draws, 95% CI over pairs × draws), each recipe marked trained (consistency training
   perturbs with it) or held out;
3. the comparison that decides "did robust training reduce the drop?": for each method against
   plain, Δdrop = drop(method) − drop(plain) and Δclean, with a 95% CI from a bootstrap that
   resamples the same test pairs (and the same seed draws) for both models — the pooled bootstrap
   of afroadv.metrics, 1000 resamples, seed 0. This needs per-pair scores, so the model folders
   (`--models`) are re-scored through the embedding cache the evaluation filled (no model
   compute when the cache is warm). The comparison is also written to `comparison.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from afroadv.metrics import _pearson_rows, _pooled_replicates, _rank, bootstrap_indices, spearman

METHODS = ("plain", "rs-da", "codeswitch-aug", "consistency", "consistency-l100", "consistency-self")
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
    if not r or r.get("drop") is None:
        return "–"
    lo, hi = r["drop_ci"]
    mark = "" if lo <= 0 <= hi else " *"
    return f"{r['drop']:.1f} [{lo:.1f}, {hi:.1f}]{mark}"


def _fmt_delta(v: float, ci: list[float]) -> str:
    lo, hi = ci
    mark = "" if lo <= 0 <= hi else " *"
    return f"{v:+.1f} [{lo:+.1f}, {hi:+.1f}]{mark}"


def _spearman_on(gold: np.ndarray, pred: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Spearman ×100 on each resample of `idx` (n_boot × n); pred (n,) or (draws, n) → (draws, n_boot)."""
    pred = pred[None] if pred.ndim == 1 else pred
    g = _rank(gold[idx])
    return 100 * np.stack([_pearson_rows(g, _rank(p[idx])) for p in pred])


def _ci(values: np.ndarray) -> list[float]:
    return [round(float(x), 2) for x in np.nanpercentile(values, [2.5, 97.5])]


def paired_comparison(models_dir: Path, docs: dict, seeds: list[int]) -> dict:
    """Δclean and Δdrop of each method against plain, on the same pair (and draw) resamples."""
    from afroadv.evaluate import build_sets
    from afroadv.models import load_encoder

    have = [m for m in METHODS if (models_dir / f"e5-small-{m}").is_dir()]
    if "plain" not in have or len(have) < 2:
        print(f"(model folders missing under {models_dir}: paired comparison skipped)", file=sys.stderr)
        return {}
    encoders = {m: load_encoder(str(models_dir / f"e5-small-{m}"), batch_size=32, dtype="fp32") for m in have}
    out: dict = {}
    for lang in LANGS:
        ref = docs.get(("plain", lang))
        if not ref:
            continue
        recipes = [r for r in _rows(ref) if r != "clean"]
        for s in build_sets(lang, recipes, None, "test", seeds, None):
            gold = np.asarray(s.scores, float)
            draws = s.draws or [s]
            scores = {m: (enc.score_pairs(s.clean).astype(float),
                          np.stack([enc.score_pairs(d.perturbed).astype(float) for d in draws]))
                      for m, enc in encoders.items()}
            idx = bootstrap_indices(len(gold), N_BOOT, 0)
            pc, pp = scores["plain"]
            for m in have[1:]:
                mc, mp = scores[m]
                d_clean = spearman(gold, mc) - spearman(gold, pc)
                d_drop = ((spearman(gold, mc) - np.mean([spearman(gold, p) for p in mp]))
                          - (spearman(gold, pc) - np.mean([spearman(gold, p) for p in pp])))

                def stat(ix, mc=mc, mp=mp):
                    return ((_spearman_on(gold, mc, ix) - _spearman_on(gold, mp, ix))
                            - (_spearman_on(gold, pc, ix) - _spearman_on(gold, pp, ix)))

                dd_b = _pooled_replicates(stat, len(gold), len(draws), N_BOOT, 0)
                dc_b = (_spearman_on(gold, mc, idx) - _spearman_on(gold, pc, idx))[0]
                out.setdefault(lang, {}).setdefault(s.recipe, {})[m] = {
                    "delta_clean": round(d_clean, 2), "delta_clean_ci": _ci(dc_b),
                    "delta_drop": round(float(d_drop), 2), "delta_drop_ci": _ci(dd_b),
                    "plain_drop": round(float(spearman(gold, pc) - np.mean([spearman(gold, p) for p in pp])), 2),
                    "n": len(gold), "draws": len(draws)}
    return out


def _train_lines(train: dict) -> list[str]:
    lines = ["### Training runs", "",
             "| model | method | STS examples seen | copies / unlabeled draws | steps | final loss | mean loss | training time |",
             "|---|---|---:|---|---:|---:|---:|---:|"]
    for m in METHODS:
        t = train.get(m)
        if not t:
            continue
        st, tr = t["augmentation_stats"], t["training"]
        cons = t.get("consistency")
        method = t["options"]["method"]
        if cons:
            ds, teacher = cons["draw_stats"], cons["teacher"]
            target = cons.get("target") or ("frozen" if "cache" in teacher else "self")
            method = f"consistency, λ = {cons['weight']:g}, target {target}"
            where = ("teacher from the cache" if teacher.get("cache", {}).get("misses") == 0
                     else f"teacher {teacher['encode_seconds']:.0f} s") if target == "frozen" else "no teacher pass"
            losses = cons.get("losses") or {}
            extra = f"{ds['draws']} draws, {100 * ds['changed_share']:.0f}% changed ({where})"
            if losses:
                extra += (f"; 1 − cos {losses['consistency_first']:.3f} → {losses['consistency_last']:.3f}, "
                          f"task loss {losses['task_first']:.2f} → {losses['task_last']:.2f} (first → last tenth)")
        else:
            extra = f"{st['copies']} copies, {100 * st['copies_changed_share']:.0f}% changed" if st["copies"] else "–"
        seen = tr["global_steps"] * t["options"]["batch_size"]
        lines.append(f"| {m} | {method} | {seen} | {extra} | {tr['global_steps']} | {tr['final_loss']} | "
                     f"{tr.get('mean_loss')} | {tr['seconds'] / 60:.1f} min |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--models", type=Path, default=Path.home() / ".cache" / "afroadv" / "trained")
    ap.add_argument("--trained", default="charnoise,codeswitch,translit", help="recipes consistency training used")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--no-paired", action="store_true")
    args = ap.parse_args()
    trained = set(args.trained.split(","))
    seeds = [int(x) for x in args.seeds.split(",")]
    kind = lambda r: "trained" if r in trained else "held out"  # noqa: E731

    cols = ("base", *METHODS)
    docs = {(m, lang): d for m in cols for lang in LANGS if (d := _load(args.results / f"e5-small-{m}-{lang}.json"))}
    train = {m: t for m in METHODS if (t := _load(args.results / f"e5-small-{m}.train.json"))}
    lines = _train_lines(train)
    lines += ["", "### Clean Spearman and drop per recipe (Spearman ×100; drop = mean over seeds "
              f"{args.seeds}, 95% CI over pairs × draws; * = CI excludes 0)", "",
              "| lang | recipe | e5-small, not fine-tuned | " + " | ".join(METHODS) + " |",
              "|---|---|---|" + "---|" * len(METHODS)]
    summary = {m: {"clean": [], "trained": [], "held out": []} for m in cols}
    for lang in LANGS:
        per = {m: _rows(docs.get((m, lang))) for m in cols}
        recipes = list(dict.fromkeys(r for m in cols for r in per[m]))
        for recipe in recipes:
            fmt = _fmt_clean if recipe == "clean" else _fmt_drop
            what = "clean Spearman" if recipe == "clean" else f"drop: {recipe} ({kind(recipe)})"
            lines.append(f"| {lang} | {what} | " + " | ".join(fmt(per[m].get(recipe)) for m in cols) + " |")
            for m in cols:
                r = per[m].get(recipe)
                if r and recipe == "clean":
                    summary[m]["clean"].append(r["spearman"])
                elif r and r.get("drop") is not None:
                    summary[m][kind(recipe)].append(r["drop"])
    lines += ["", "### Summary over languages", "",
              "| model | mean clean Spearman | mean drop, trained recipes | mean drop, held-out recipes |",
              "|---|---:|---:|---:|"]
    for m in cols:
        s = summary[m]
        if s["clean"]:
            lines.append(f"| {'e5-small, not fine-tuned' if m == 'base' else m} | {np.mean(s['clean']):.1f} | "
                         f"{np.mean(s['trained']):.2f} ({len(s['trained'])} cells) | "
                         f"{np.mean(s['held out']):.2f} ({len(s['held out'])} cells) |")

    if not args.no_paired and docs:
        comp = paired_comparison(args.models, docs, seeds)
        if comp:
            (args.results / "comparison.json").write_text(json.dumps(comp, indent=2) + "\n", encoding="utf-8")
            others = [m for m in METHODS[1:] if any(m in c for r in comp.values() for c in r.values())]
            lines += ["", "### Paired comparison with plain (same test pairs and seed draws, same bootstrap resamples; "
                      "95% CI; * = CI excludes 0)", "",
                      "Δdrop < 0: the method lost less than plain under that recipe; Δclean > 0: it scores higher on clean text.", "",
                      "| lang | recipe | plain drop | " + " | ".join(f"{m} − plain" for m in others) + " |",
                      "|---|---|---:|" + "---|" * len(others)]
            for lang, recs in comp.items():
                first = next(iter(recs.values()))
                lines.append(f"| {lang} | Δclean | | " + " | ".join(
                    _fmt_delta(first[m]["delta_clean"], first[m]["delta_clean_ci"]) for m in others) + " |")
                for recipe, cell in recs.items():
                    lines.append(f"| {lang} | Δdrop: {recipe} ({kind(recipe)}) | {cell[others[0]]['plain_drop']:.1f} | "
                                 + " | ".join(_fmt_delta(cell[m]["delta_drop"], cell[m]["delta_drop_ci"]) for m in others) + " |")
            lines += ["", "| method | recipes | cells | mean drop, plain → method | mean Δdrop | "
                      "significantly smaller drop | significantly larger drop |", "|---|---|---:|---:|---:|---:|---:|"]
            for m in others:
                for group in ("trained", "held out"):
                    cells = [c[m] for r in comp.values() for rec, c in r.items() if kind(rec) == group]
                    if not cells:
                        continue
                    plain_mean = np.mean([c["plain_drop"] for c in cells])
                    mean_dd = np.mean([c["delta_drop"] for c in cells])
                    lines.append(f"| {m} | {group} | {len(cells)} | {plain_mean:.2f} → {plain_mean + mean_dd:.2f} | "
                                 f"{mean_dd:+.2f} | {sum(c['delta_drop_ci'][1] < 0 for c in cells)} | "
                                 f"{sum(c['delta_drop_ci'][0] > 0 for c in cells)} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
