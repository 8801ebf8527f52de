"""The report's tables, built from merged rows: per task a drop table (clean score, then each
recipe's drop with its CI), a mean-over-languages summary and all scores; calibrated invariance
with its wordswap control (or an older file's raw margin); directional (should-change) pass rates;
the reviewers' Validation section; and the inputs (files, versions, hashes)."""

from __future__ import annotations

from afroadv.report.aggregate import mean_drops, set_labels
from afroadv.report.load import CLEAN, ResultsFile
from afroadv.report.tables import DASH, METRIC_NAME, Table, agree, fmt, fmt_params, pct, with_ci
from afroadv.validate.registry import LABEL_PRESERVED_MIN, untrustworthy


def score_tables(task: str, rows: list[dict], models: list[str], params: dict) -> tuple[Table, Table]:
    tmodels = [m for m in models if any(r["model"] == m for r in rows)]
    idx = {(r["model"], r["lang"], r["dataset"], r["recipe"]): r for r in rows}
    keys = sorted({(r["lang"], r["dataset"], r["recipe"]) for r in rows}, key=lambda k: (k[0], k[1], k[2] != CLEAN, k[2]))
    heads = [m if params.get(m) is None else f"{m} ({fmt_params(params[m])})" for m in tmodels]
    main, scores = [], []
    for lang, ds, rec in keys:
        here = [idx.get((m, lang, ds, rec)) for m in tmodels]
        got = [r for r in here if r]
        n = agree([r["n"] for r in got], str)
        if rec == CLEAN:
            changed = edit = DASH
            cells = [DASH if r is None else with_ci(r["score"], r["score_ci"]) for r in here]
        else:
            changed = agree([r["changed_share"] for r in got], pct)
            edit = agree([r["edit_rate"] for r in got], pct)
            cells = [DASH if r is None else (with_ci(r["drop"], r["drop_ci"]) + (" !" if untrustworthy(r["validation"]) else ""), r["drop"])
                     for r in here]  # fmt: skip
        main.append([lang, ds, rec, n, changed, edit, *cells])
        scores.append([lang, ds, rec, *[DASH if r is None else fmt(r["score"]) for r in here]])
    metric = METRIC_NAME[task]
    t1 = Table(
        ["lang", "dataset", "recipe", "n", "changed", "edit rate", *heads], main, 3,
        caption=f"`clean` rows: {metric} with its 95% CI. Other rows: *drop* = clean − perturbed "
        f"({metric}) with its paired-bootstrap 95% CI; positive means the model does worse on the "
        "perturbed set. `changed`: share of pairs the recipe changed; `edit rate`: mean share of words changed."
        + (f" `!`: reviewers found the gold score kept in under {100 * LABEL_PRESERVED_MIN:.0f}% of the set's perturbed "
           "pairs, so the drop is not trustworthy (see Validation)." if any(untrustworthy(r.get("validation")) for r in rows) else ""),
    )
    t2 = Table(["lang", "dataset", "recipe", *heads], scores, 3, caption=f"{metric[0].upper() + metric[1:]} on every set, clean and perturbed.")
    return t1, t2


def summary_table(task: str, rows: list[dict], models: list[str], params: dict) -> Table | None:
    tmodels = [m for m in models if any(r["model"] == m for r in rows)]
    means = mean_drops(rows, tmodels)
    if not means:
        return None
    heads = [m if params.get(m) is None else f"{m} ({fmt_params(params[m])})" for m in tmodels]
    body = []
    for rec, entry in means.items():
        cells = []
        for m in tmodels:
            if m in entry:
                mean, ci = entry[m]
                cells.append((with_ci(mean, ci), mean))
            else:
                cells.append(DASH)
        sets = entry["sets"]
        body.append([rec, str(len(sets)), ", ".join(set_labels(sets).values()) or DASH, *cells])
    return Table(
        ["recipe", "sets", "language sets", *heads], body, 3,
        caption=f"Mean drop ({METRIC_NAME[task]}) over the language sets every model has for that recipe; "
        "CI combines the per-set CIs as independent errors (approximate).",
    )


def _control_cell(c: dict | None) -> str:
    if not c:
        return DASH
    words = "" if c["word_rate"] is None else f", {pct(c['word_rate'])} of words"
    return f"{with_ci(c['invariance'], c['invariance_ci'])} ({c['recipe']}{words})"


def invariance_table(rows: list[dict], models: list[str]) -> Table:
    order = {m: i for i, m in enumerate(models)}
    rows = sorted(rows, key=lambda r: (r["lang"], r["dataset"], r["recipe"], order[r["model"]]))
    older = any(not r["calibrated"] for r in rows)
    body = []
    for r in rows:
        k = f" (K={r['retrieval_k']})" if r["retrieval_k"] else ""
        cells = [r["lang"], r["dataset"] or DASH, r["recipe"], r["model"], str(r["n"]), fmt(r["mean_cos_self"], 3),
                 fmt(r["mean_cos_random"], 3)]  # fmt: skip
        if r["calibrated"]:
            cells += [with_ci(r["invariance"], r["invariance_ci"]), with_ci(r["retrieval_at1"], r["retrieval_at1_ci"]) + k,
                      _control_cell(r["control"])]  # fmt: skip
        else:
            cells += [DASH, DASH, DASH]
        if older:
            cells.append(DASH if r["calibrated"] else with_ci(r["margin"], r["margin_ci"], 3))
        body.append(cells)
    return Table(
        ["lang", "dataset", "recipe", "model", "n", "cos(self)", "cos(random)", "invariance", "retrieval@1", "control",
         *(["margin (older)"] if older else [])], body, 4,
        caption="Out-of-domain text without gold labels. `invariance` = 100 × (cos(self) − cos(random)) / "
        "(1 − cos(random)) with its 95% CI: 100 means the perturbed sentence is as close to its original as the "
        "original itself, 0 no closer than a random sentence of the set, so models whose random pairs sit at "
        "different cosines compare. `cos(self)`: mean cosine between a sentence and its perturbed self; "
        "`cos(random)`: mean cosine between different sentences of the set. `retrieval@1`: share of perturbed "
        "sentences whose nearest among K originals is their own. `control`: the same measure for `wordswap` "
        "(random words of other sentences put in) changing the same share of words as the recipe: a recipe near "
        "its control destroys as much as random word replacement."
        + (" `margin (older)`: rows from results written before the calibrated measure carry only the raw margin "
           "cos(self) − cos(random), which depends on the model's random-pair level and is not comparable across "
           "models; re-run `afroadv evaluate` for invariance." if older else ""),
    )


def directional_table(rows: list[dict], models: list[str]) -> Table:
    """Directional (`expect: decrease`) sets: the share of changed pairs whose similarity fell."""
    order = {m: i for i, m in enumerate(models)}
    rows = sorted(rows, key=lambda r: (r["lang"], r["dataset"], r["recipe"], order[r["model"]]))
    body = [
        [r["lang"], r["dataset"], r["recipe"], r["model"], str(r["n"]), agree([r["changed_share"]], pct),
         f"{r['dir_margin']:g}", _rate_with_ci(r["directional_pass_rate"], r["directional_pass_rate_ci"]),
         fmt(r["mean_similarity_drop"], 3)]
        for r in rows
    ]  # fmt: skip
    return Table(
        ["lang", "dataset", "recipe", "model", "n", "changed", "margin", "pass rate", "mean fall"], body, 4,
        caption="Should-change tests (recipes with `expect: decrease`: a number, a name, a clause's polarity or "
        "random words changed on one side of a pair). `n`: pairs the recipe changed (the eligible pairs); "
        "*pass rate*: share of them whose predicted similarity fell by more than 0 and by at least `margin` "
        "(`--dir-margin`), with its bootstrap 95% CI over pairs; *mean fall*: mean clean − perturbed similarity. "
        "Higher is better: the model notices the change.",
    )


def _rate_with_ci(rate: float | None, ci) -> str:
    if rate is None:
        return DASH
    return f"{pct(rate)} [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else pct(rate)


def validation_blocks(rows: list[dict]) -> list[tuple]:
    """The Validation section: reviewers' rates per perturbed set (recipe × language) and a note for each
    set whose generator changes meaning too often for its drop to be trusted."""
    per_set: dict[tuple, dict | None] = {}
    for r in rows:
        if r["recipe"] != CLEAN:
            key = (r["recipe"], r["lang"], r["dataset"])
            per_set[key] = r["validation"] or per_set.get(key)
    if not any(per_set.values()):
        return [("p", "No set in these results has been validated by reviewers. A drop measures robustness only where "
                      "the perturbed pairs still deserve their gold score: review a sample with `afroadv validate` "
                      "(docs/validation.md).")]  # fmt: skip
    body, flagged = [], []
    for (rec, lang, ds), v in sorted(per_set.items(), key=lambda kv: kv[0]):
        if v is None:
            body.append([rec, lang, ds, DASH, DASH, DASH, "not validated"])
            continue
        verdict = "ok"
        if untrustworthy(v):
            verdict = f"not trustworthy: the generator changes meaning in {pct(1 - v['label_preserved'])} of pairs"
            flagged.append(f"`{rec}` on {lang}/{ds} is {verdict}: its drops mix lost robustness with changed meaning.")
        body.append([rec, lang, ds, _rate_with_ci(v["label_preserved"], v["label_preserved_ci"]),
                     _rate_with_ci(v["realistic"], v["realistic_ci"]), str(v["n"]), verdict])  # fmt: skip
    blocks = [("table", Table(
        ["recipe", "lang", "dataset", "label preserved", "realistic", "n", "verdict"], body, 3,
        caption="Reviewers' judgments of perturbed pairs (`afroadv validate`): *label preserved* = the gold score still "
        "holds, *realistic* = a real writer could have typed it; share of yes among yes/no answers with its Wilson 95% CI; "
        f"`n`: label-preserved answers. Under {100 * LABEL_PRESERVED_MIN:.0f}% label preserved, a drop mixes lost "
        "robustness with changed meaning.",
    ))]  # fmt: skip
    blocks += [("note", text) for text in flagged]
    return blocks


def inputs_table(loaded: list[ResultsFile]) -> Table:
    body = []
    for rf in loaded:
        scalars = [f"{k}={v}" for k, v in sorted(rf.manifest.items()) if isinstance(v, (str, int, float, bool)) and v is not None]
        info = ", ".join(s if len(s) <= 60 else s[:57] + "..." for s in scalars[:8]) or DASH
        body.append([rf.path.name, rf.version, str(len(rf.rows)), rf.sha256[:12], info])
    return Table(["file", "afroadv", "rows", "sha256", "manifest"], body, 99)
