"""The report as one document (tables.Doc) built from the loaded files and their merged rows; the
Markdown and HTML renderers draw the same blocks, so the two pages never disagree."""

from __future__ import annotations

from afroadv import __version__
from afroadv.report.aggregate import models_in_order, recipe_order
from afroadv.report.load import CLEAN, TASKS, ResultsFile, margin_only_files
from afroadv.report.plots import plot_section
from afroadv.report.seeds import seeds_table
from afroadv.report.sections import (
    directional_table,
    inputs_table,
    invariance_table,
    score_tables,
    summary_table,
    validation_blocks,
)
from afroadv.report.tables import DASH, TASK_TITLE, Doc, Table, fmt_params


def older_notes(loaded: list[ResultsFile]) -> list[str]:
    """A note per older afroadv version among the inputs: same schema, other recipes."""
    by_version: dict[str, list[str]] = {}
    for rf in loaded:
        if rf.older:
            by_version.setdefault(rf.version, []).append(rf.path.name)
    return [
        f"{', '.join(names)} {'was' if len(names) == 1 else 'were'} written by afroadv {version}; this is afroadv "
        f"{__version__}. Their perturbed sets were drawn by that version's recipes (parameters in each file's manifest), "
        "so compare their drops with each other, not with this version's sets of the same recipe name; re-run "
        "`afroadv evaluate` to measure the current sets."
        for version, names in by_version.items()
    ]


def report_document(loaded: list[ResultsFile], rows: list[dict], with_plots: bool = True) -> tuple[Doc, dict[str, bytes]]:
    """The document and its PNGs by name (none without plots: csv/parquet need no matplotlib)."""
    models, params = models_in_order(rows)
    by_task = {t: [r for r in rows if r["task"] == t and r["expect"] == "same"] for t in TASKS}
    directional = [r for r in rows if r["expect"] == "decrease"]
    all_recipes = recipe_order(r["recipe"] for r in rows if r["recipe"] != CLEAN)

    doc = Doc()
    doc.h(1, "afroadv robustness report")
    n_langs = len({r["lang"] for r in rows})
    doc.p(
        f"{len(rows)} results ({', '.join(f'{len(v)} {t}' for t, v in by_task.items() if v)}) for "
        f"{len(models)} model(s), {n_langs} language(s) and {len(all_recipes)} recipe(s), "
        f"merged from {len(loaded)} file(s); report by afroadv {__version__}. "
        "Where files overlap, the later file's row wins (rows under other seeds: see Across seeds)."
    )
    for text in older_notes(loaded):
        doc.note(text)
    doc.h(2, "Models and inputs")
    labels = {r["model"]: r["model_label"] for r in rows if r.get("model_label")}
    doc.table(Table(["model", "what it is", "parameters"],
                    [[m, labels.get(m, DASH), fmt_params(params[m])] for m in models], 2))
    doc.table(inputs_table(loaded))

    images, plot_blocks = plot_section(by_task, models, params, all_recipes) if with_plots else ({}, [])
    doc.h(2, "Plots")
    doc.blocks.extend(plot_blocks)

    for task in ("sts", "ordinal", "bitext"):
        trows = by_task[task]
        if not trows:
            continue
        doc.h(2, TASK_TITLE[task])
        if task == "ordinal":
            doc.p("Graded pairs from document structure (NTREX-128 articles, Bible chapters): a sentence with its "
                  "translation (level 2), with the translation of a neighbouring sentence of its document (1), and "
                  "with a sentence of another document (0). The levels are ordinal gold, not similarity scores: "
                  "the score is Spearman between the model's cosine and the level.")  # fmt: skip
        main, scores = score_tables(task, trows, models, params)
        doc.table(main)
        summary = summary_table(task, trows, models, params)
        if summary is not None:
            doc.h(3, "Mean drop over languages")
            doc.table(summary)
        doc.h(3, "Scores")
        doc.table(scores)
    if by_task["invariance"]:
        doc.h(2, TASK_TITLE["invariance"])
        older = margin_only_files(loaded)
        if older:
            doc.note(f"{', '.join(older)} {'carries' if len(older) == 1 else 'carry'} invariance rows with only the raw "
                     "cosine margin (written before calibrated invariance): shown as `margin (older)`, not comparable "
                     "across models.")  # fmt: skip
        doc.table(invariance_table(by_task["invariance"], models))
    if directional:
        doc.h(2, "Directional tests (should change)")
        doc.table(directional_table(directional, models))
    doc.h(2, "Validation")
    doc.blocks.extend(validation_blocks(rows))
    seeds = seeds_table(loaded)
    if seeds is not None:
        doc.h(2, "Across seeds")
        doc.p("The same sets drawn with other `--seed` values: the paired-bootstrap CI above covers which pairs "
              "were sampled, not which words the recipe happened to change; this spread does. The tables above "
              "show the last file's seed (a file made with `--seeds`: the values pooled over its draws, whose CI "
              "covers both).")  # fmt: skip
        doc.table(seeds)

    return doc, images
