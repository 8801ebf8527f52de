"""The report's numbers as one long (tidy) table for pandas: report.csv and report.parquet.

One row per model × language set × recipe × metric, after the same merge as the report (a later
file wins on the same cell). sts and bitext rows carry the task's score (Spearman ×100 / accuracy
×100): `clean` and its CI on every row (joined from the set's clean row), `perturbed` and `drop`
with their CIs on perturbed rows, and the recipe's `changed_share` and `edit_rate`; `clean` rows
leave the perturbed columns empty. Invariance rows (no gold labels) give one row per metric
(cos_self, cos_random, invariance, retrieval_at1, control_invariance — or an older file's margin)
with the value, measured on the perturbed text, in `perturbed`.
Directional sets (`expect: decrease`) give one row, metric `directional_pass_rate`: the share of
changed pairs whose similarity fell in `perturbed` (with its CI), the mean fall in `drop`.
Reviewers' validation of the set (when the results carry it) and the source file, its afroadv
version and seed close each row. Rows are sorted, columns fixed and typed, so the same inputs
give the same bytes and an all-empty column keeps its type.
"""

from __future__ import annotations

import csv
import io

from afroadv.report.load import CLEAN, SCORE, TASKS, ResultsFile, row_key
from afroadv.validate.registry import untrustworthy

COLUMNS = (
    ("model", "string"), ("model_label", "string"), ("model_params", "int64"), ("task", "string"), ("lang", "string"), ("dataset", "string"),
    ("recipe", "string"), ("expect", "string"), ("metric", "string"), ("n", "int64"),
    ("clean", "float64"), ("clean_ci_lo", "float64"), ("clean_ci_hi", "float64"),
    ("perturbed", "float64"), ("perturbed_ci_lo", "float64"), ("perturbed_ci_hi", "float64"),
    ("drop", "float64"), ("drop_ci_lo", "float64"), ("drop_ci_hi", "float64"),
    ("changed_share", "float64"), ("edit_rate", "float64"),
    ("label_preserved", "float64"), ("label_preserved_ci_lo", "float64"), ("label_preserved_ci_hi", "float64"),
    ("realistic", "float64"), ("realistic_ci_lo", "float64"), ("realistic_ci_hi", "float64"),
    ("validation_n", "int64"), ("untrustworthy", "bool"),
    ("source_file", "string"), ("afroadv_version", "string"), ("seed", "int64"),
)  # fmt: skip
NAMES = [name for name, _ in COLUMNS]
INVARIANCE_METRICS = (("cos_self", "mean_cos_self", None), ("cos_random", "mean_cos_random", None), ("margin", "margin", "margin_ci"),
                      ("invariance", "invariance", "invariance_ci"), ("retrieval_at1", "retrieval_at1", "retrieval_at1_ci"))


def _ci(ci, i: int):
    return ci[i] if ci else None


def tidy_rows(loaded: list[ResultsFile]) -> list[dict]:
    """The long table's rows, from the loaded files in command-line order."""
    source: dict[tuple, tuple[dict, ResultsFile]] = {}
    for rf in loaded:
        for row in rf.rows:
            source[row_key(row)] = (row, rf)  # a later file wins, as in the report
    out = []
    for key, (r, rf) in source.items():
        seed = rf.manifest.get("seed")
        common = {"model": r["model"], "model_label": r.get("model_label"), "model_params": r["model_params"], "task": r["task"], "lang": r["lang"],
                  "dataset": r["dataset"], "recipe": r["recipe"], "expect": r["expect"], "n": r["n"], "source_file": rf.path.name,
                  "afroadv_version": rf.version, "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None}  # fmt: skip
        v = r.get("validation")
        if v:
            common.update(label_preserved=v["label_preserved"], label_preserved_ci_lo=_ci(v["label_preserved_ci"], 0),
                          label_preserved_ci_hi=_ci(v["label_preserved_ci"], 1), realistic=v["realistic"],
                          realistic_ci_lo=_ci(v["realistic_ci"], 0), realistic_ci_hi=_ci(v["realistic_ci"], 1),
                          validation_n=v["n"], untrustworthy=untrustworthy(v))  # fmt: skip
        if r["expect"] == "decrease":  # pass rate (a share) in `perturbed`, the mean fall of similarity in `drop`
            ci = r["directional_pass_rate_ci"]
            out.append(dict(common, metric="directional_pass_rate", perturbed=r["directional_pass_rate"],
                            perturbed_ci_lo=_ci(ci, 0), perturbed_ci_hi=_ci(ci, 1), drop=r["mean_similarity_drop"],
                            changed_share=r["changed_share"], edit_rate=r["edit_rate"]))  # fmt: skip
        elif r["task"] in SCORE:
            clean = source.get((*key[:3], CLEAN), (None,))[0] if r["recipe"] != CLEAN else r
            row = dict(common, metric=SCORE[r["task"]])
            if clean is not None:
                row.update(clean=clean["score"], clean_ci_lo=_ci(clean["score_ci"], 0), clean_ci_hi=_ci(clean["score_ci"], 1))
            if r["recipe"] != CLEAN:
                row.update(perturbed=r["score"], perturbed_ci_lo=_ci(r["score_ci"], 0), perturbed_ci_hi=_ci(r["score_ci"], 1),
                           drop=r["drop"], drop_ci_lo=_ci(r["drop_ci"], 0), drop_ci_hi=_ci(r["drop_ci"], 1),
                           changed_share=r["changed_share"], edit_rate=r["edit_rate"])  # fmt: skip
            out.append(row)
        else:
            control = r["control"] or {}
            values = {**r, "control_invariance": control.get("invariance"), "control_invariance_ci": control.get("invariance_ci")}
            for metric, field, ci_field in (*INVARIANCE_METRICS, ("control_invariance", "control_invariance", "control_invariance_ci")):
                if values[field] is None and (metric == "margin" or not r["calibrated"]):
                    continue  # a calibrated row has no margin; an older row has only the margin
                ci = values.get(ci_field) if ci_field else None
                out.append(dict(common, metric=metric, perturbed=values[field], perturbed_ci_lo=_ci(ci, 0), perturbed_ci_hi=_ci(ci, 1)))
    rows = [{name: row.get(name) for name in NAMES} for row in out]
    order = {CLEAN: 0}
    return sorted(rows, key=lambda x: (TASKS.index(x["task"]), x["model"], x["lang"], x["dataset"], order.get(x["recipe"], 1), x["recipe"], x["metric"]))


def _csv_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(NAMES)
    for row in rows:
        w.writerow([_csv_cell(row[name]) for name in NAMES])
    return buf.getvalue()


def to_parquet(rows: list[dict]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    return buf.getvalue().to_pybytes()
