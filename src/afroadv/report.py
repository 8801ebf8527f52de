"""Reports: merge `afroadv evaluate` results files into Markdown, one self-contained HTML page and PNGs.

`build_report(files, out_dir)` validates every results file (kind, afroadv major.minor version,
row fields), merges their rows (a later file wins on the same model, language, dataset and recipe)
and writes:

- `report.md`: one table per task (STS, bitext, invariance) plus a mean-over-languages summary, and
  a Validation section (reviewers' rates per set from `afroadv validate`; drops of sets under 90%
  label preservation marked `!`);
- `report.html`: the same content as one page, CSS inline, plots embedded as base64 PNG data URIs
  (no external assets, no JavaScript), so it can be mailed or attached as a single file;
- `drop_<task>.png`: drop under each recipe, per language set, with 95% CI error bars, one panel
  per model; `drop_vs_size.png`: mean drop against parameter count (log axis), one line per recipe.

A plot whose data is absent (no perturbed rows, a single model, unknown parameter counts) is
skipped and the report says why. Output is deterministic: no timestamps, PNGs without a software
tag, matplotlib's default style whatever the user's matplotlibrc, so the same inputs give
byte-identical files. matplotlib is imported inside `build_report` only: importing this module
stays light.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from afroadv import __version__
from afroadv.data.writers import atomic_path, check_out_dir, write_text_atomic
from afroadv.errors import AfroadvError
from afroadv.validate.registry import LABEL_PRESERVED_MIN, check_row_validation, untrustworthy

__all__ = ["build_report", "load_results", "merge_results"]

KIND = "evaluation-results"
CLEAN = "clean"
TASKS = ("sts", "bitext", "invariance")
SCORE = {"sts": "spearman", "bitext": "accuracy"}
TASK_TITLE = {"sts": "Semantic similarity (STS)", "bitext": "Bitext retrieval", "invariance": "Invariance (no gold labels)"}
METRIC_NAME = {"sts": "Spearman ×100", "bitext": "accuracy ×100"}
PLOT_NAMES = ("drop_sts.png", "drop_bitext.png", "drop_vs_size.png")
Z95 = 1.959964
DASH = "–"  # a missing cell; never confused with a minus sign


# ---------------------------------------------------------------------------------------------
# Loading and validation


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _metric(v, where: str, key: str) -> float | None:
    """A metric value: a number, or null / NaN (a degenerate set), returned as float or None."""
    if v is None:
        return None
    if not _is_num(v):
        raise AfroadvError(f"{where}.{key} must be a number or null, not {type(v).__name__}")
    v = float(v)
    return None if math.isnan(v) else v


def _ci(v, where: str, key: str) -> tuple[float, float] | None:
    if v is None:
        return None
    if not (isinstance(v, (list, tuple)) and len(v) == 2 and all(_is_num(x) or x is None for x in v)):
        raise AfroadvError(f"{where}.{key} must be [lo, hi] or null")
    if any(x is None or math.isnan(float(x)) for x in v):
        return None
    return float(v[0]), float(v[1])


def _text(row: dict, key: str, where: str, required: bool = True) -> str:
    v = row.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise AfroadvError(f"{where}.{key} must be a non-empty string")
    return v


def _check_row(row, where: str) -> dict:
    if not isinstance(row, dict):
        raise AfroadvError(f"{where} is not a JSON object")
    task = row.get("task")
    required = ["model", "lang", "task", "recipe", "n"]
    if task in SCORE:
        required += ["dataset", SCORE[task]]
        if row.get("recipe") != CLEAN:
            required.append("drop")
    elif task == "invariance":
        required += ["mean_cos_self", "mean_cos_random", "margin"]
    for key in required:
        if key not in row:
            raise AfroadvError(f"{where} lacks field {key!r}")
    if task not in TASKS:
        raise AfroadvError(f"{where}.task is {task!r}; expected one of {', '.join(TASKS)}")
    out = {
        "model": _text(row, "model", where),
        "lang": _text(row, "lang", where),
        "task": task,
        "recipe": _text(row, "recipe", where),
        "dataset": _text(row, "dataset", where, required=task != "invariance"),
    }
    n = row["n"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise AfroadvError(f"{where}.n must be a non-negative integer")
    out["n"] = n
    p = row.get("model_params")
    if p is not None and not (_is_num(p) and math.isfinite(p) and p > 0):
        raise AfroadvError(f"{where}.model_params must be a positive number or null")
    out["model_params"] = int(p) if p is not None else None
    label = row.get("model_label")
    out["model_label"] = label if isinstance(label, str) and label else None
    if task in SCORE:
        score = SCORE[task]
        out["score"] = _metric(row[score], where, score)
        out["score_ci"] = _ci(row.get(f"{score}_ci"), where, f"{score}_ci")
        if task == "sts":
            out["pearson"] = _metric(row.get("pearson"), where, "pearson")
        if out["recipe"] != CLEAN:
            out["drop"] = _metric(row["drop"], where, "drop")
            out["drop_ci"] = _ci(row.get("drop_ci"), where, "drop_ci")
            out["edit_rate"] = _metric(row.get("edit_rate"), where, "edit_rate")
            out["changed_share"] = _metric(row.get("changed_share"), where, "changed_share")
    else:
        for key in ("mean_cos_self", "mean_cos_random", "margin"):
            out[key] = _metric(row[key], where, key)
        out["margin_ci"] = _ci(row.get("margin_ci"), where, "margin_ci")
    out["validation"] = None if out["recipe"] == CLEAN else check_row_validation(row.get("validation"), where)
    return out


def _major_minor(version) -> tuple[str, ...] | None:
    if not isinstance(version, str):
        return None
    parts = version.strip().split(".")
    return tuple(parts[:2]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else None


@dataclass
class ResultsFile:
    path: Path
    version: str
    sha256: str
    manifest: dict
    rows: list[dict] = field(default_factory=list)


def _load(path: Path) -> ResultsFile:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise AfroadvError(f"cannot read results file {path}: {e.strerror or e}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AfroadvError(f"{path}: not UTF-8 text, so not an afroadv results file") from None
    except json.JSONDecodeError as e:
        raise AfroadvError(f"{path}: malformed JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict):
        raise AfroadvError(f"{path}: not an afroadv results file (top level is not a JSON object)")
    if doc.get("kind") != KIND:
        raise AfroadvError(f"{path}: not an afroadv results file (kind {doc.get('kind')!r}, expected {KIND!r})")
    version = doc.get("afroadv_version")
    theirs, ours = _major_minor(version), _major_minor(__version__)
    if theirs is None:
        raise AfroadvError(f"{path}: malformed results file (afroadv_version {version!r} is not a version)")
    if theirs != ours:
        raise AfroadvError(
            f"{path}: written by afroadv {version}, this is afroadv {__version__}; "
            f"re-run `afroadv evaluate` with this version (major.minor must match)"
        )
    results = doc.get("results")
    if not isinstance(results, list):
        raise AfroadvError(f"{path}: malformed results file ('results' must be a list)")
    manifest = doc.get("manifest")
    if manifest is not None and not isinstance(manifest, dict):
        raise AfroadvError(f"{path}: malformed results file ('manifest' must be an object)")
    rows = [_check_row(r, f"{path}: results[{i}]") for i, r in enumerate(results)]
    return ResultsFile(path, version, hashlib.sha256(raw).hexdigest(), manifest or {}, rows)


def load_results(path: Path) -> list[dict]:
    """The validated, normalised rows of one results file (raises AfroadvError on any problem)."""
    return _load(path).rows


def _key(row: dict) -> tuple:
    return row["model"], row["lang"], row["dataset"], row["recipe"]


def merge_results(files: list[Path]) -> list[dict]:
    """Rows of all files; a later file wins on the same (model, lang, dataset, recipe)."""
    return _merge([_load(p) for p in files])


def _merge(loaded: list[ResultsFile]) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for rf in loaded:
        for row in rf.rows:
            merged.pop(_key(row), None)  # re-insert: the winner's position follows its file
            merged[_key(row)] = row
    return list(merged.values())


# ---------------------------------------------------------------------------------------------
# Formatting


def _f(v: float | None, d: int = 1) -> str:
    if v is None:
        return "n/a"
    s = f"{v:.{d}f}"
    return s[1:] if re.fullmatch(r"-0\.?0*", s) else s  # no "-0.0"


def _with_ci(v: float | None, ci, d: int = 1) -> str:
    s = _f(v, d)
    return f"{s} [{_f(ci[0], d)}, {_f(ci[1], d)}]" if v is not None and ci else s


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def fmt_params(p: int | None) -> str:
    if p is None:
        return "size unknown"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if p >= div:
            return f"{p / div:.3g}{suffix}"
    return str(p)


def _agree(values: list, fmt) -> str:
    """One shared value, or the range when models disagree (e.g. different --limit)."""
    vals = sorted({v for v in values if v is not None})
    if not vals:
        return DASH
    return fmt(vals[0]) if len(vals) == 1 else f"{fmt(vals[0])}{DASH}{fmt(vals[-1])}"


# ---------------------------------------------------------------------------------------------
# The document: blocks rendered both as Markdown and as HTML


@dataclass
class Table:
    header: list[str]
    rows: list[list]  # cells: str, or (str, heat) where heat is a drop value used to tint the HTML cell
    numeric_from: int  # columns from this index on are right-aligned
    caption: str = ""


@dataclass
class Doc:
    blocks: list = field(default_factory=list)

    def h(self, level: int, text: str):
        self.blocks.append(("h", level, text))

    def p(self, text: str):
        self.blocks.append(("p", text))

    def note(self, text: str):
        self.blocks.append(("note", text))

    def table(self, t: Table):
        self.blocks.append(("table", t))

    def figure(self, name: str, alt: str, caption: str):
        self.blocks.append(("figure", name, alt, caption))


def _cell_text(c) -> str:
    return c[0] if isinstance(c, tuple) else c


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _to_markdown(doc: Doc) -> str:
    out: list[str] = []
    for b in doc.blocks:
        if b[0] == "h":
            out += ["#" * b[1] + " " + b[2], ""]
        elif b[0] == "p":
            out += [b[1], ""]
        elif b[0] == "note":
            out += [f"> {b[1]}", ""]
        elif b[0] == "table":
            t: Table = b[1]
            if t.caption:
                out += [t.caption, ""]
            out.append("| " + " | ".join(_md_cell(h) for h in t.header) + " |")
            out.append("|" + "|".join("---:" if i >= t.numeric_from else "---" for i in range(len(t.header))) + "|")
            for r in t.rows:
                out.append("| " + " | ".join(_md_cell(_cell_text(c)) for c in r) + " |")
            out.append("")
        elif b[0] == "figure":
            _, name, alt, caption = b
            out += [f"![{alt}]({name})", "", f"*{caption}*", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _inline_html(text: str) -> str:
    """Escape, then turn `code` and *emphasis* (the only inline markup the report uses) into tags."""
    s = html.escape(text, quote=False)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", s)


def _heat_style(v: float | None, vmax: float) -> str:
    if v is None or vmax <= 0:
        return ""
    a = min(abs(v) / vmax, 1.0) * 0.45
    rgb = "214, 39, 40" if v > 0 else "31, 119, 180"  # red: worse under perturbation; blue: better
    return f' style="background: rgba({rgb}, {a:.3f})"'


CSS = """
body { font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d1d1f; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 24px 0 6px; }
p.caption { color: #555; margin: 4px 0 8px; }
blockquote { margin: 10px 0; padding: 8px 12px; background: #fff8e1; border-left: 4px solid #f0b400; color: #5d4a00; }
.scroll { overflow-x: auto; margin: 6px 0 18px; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; white-space: nowrap; }
th { background: #f4f4f6; text-align: left; font-weight: 600; border-bottom: 2px solid #ccc; }
td.num, th.num { text-align: right; }
tbody tr:hover td { outline: 1px solid #d0d0d8; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f4f4f6;
       padding: 1px 4px; border-radius: 3px; }
figure { margin: 14px 0 26px; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13.5px; margin-top: 4px; }
"""


def _to_html(doc: Doc, images: dict[str, bytes]) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>afroadv robustness report</title>",
        "<style>" + CSS + "</style>",
        "</head>",
        "<body>",
        "<main>",
    ]
    for b in doc.blocks:
        if b[0] == "h":
            out.append(f"<h{b[1]}>{_inline_html(b[2])}</h{b[1]}>")
        elif b[0] == "p":
            out.append(f"<p>{_inline_html(b[1])}</p>")
        elif b[0] == "note":
            out.append(f"<blockquote>{_inline_html(b[1])}</blockquote>")
        elif b[0] == "table":
            t: Table = b[1]
            heats = [c[1] for r in t.rows for c in r if isinstance(c, tuple) and c[1] is not None]
            vmax = max((abs(v) for v in heats), default=0.0)
            if t.caption or vmax > 0:
                shading = " Cell shading: red = the model loses more, blue = it gains." if vmax > 0 else ""
                out.append(f'<p class="caption">{_inline_html(t.caption)}{shading}</p>')
            out.append('<div class="scroll"><table>')
            cls = lambda i: ' class="num"' if i >= t.numeric_from else ""  # noqa: E731
            out.append("<thead><tr>" + "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(t.header)) + "</tr></thead>")
            out.append("<tbody>")
            for r in t.rows:
                tds = []
                for i, c in enumerate(r):
                    style = _heat_style(c[1], vmax) if isinstance(c, tuple) else ""
                    tds.append(f"<td{cls(i)}{style}>{html.escape(_cell_text(c))}</td>")
                out.append("<tr>" + "".join(tds) + "</tr>")
            out.append("</tbody></table></div>")
        elif b[0] == "figure":
            _, name, alt, caption = b
            data = base64.b64encode(images[name]).decode("ascii")
            out.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
                f"<figcaption>{_inline_html(caption)} (<code>{html.escape(name)}</code>)</figcaption></figure>"
            )
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Aggregation shared by tables and plots


def _recipe_order(recipes) -> list[str]:
    return sorted(set(recipes), key=lambda r: (r != CLEAN, r))


def _models_in_order(rows: list[dict]) -> tuple[list[str], dict[str, int | None]]:
    """Models by parameter count (unknown last), then first appearance; their last known size."""
    first: dict[str, int] = {}
    params: dict[str, int | None] = {}
    for i, r in enumerate(rows):
        first.setdefault(r["model"], i)
        if r["model_params"] is not None or r["model"] not in params:
            params[r["model"]] = r["model_params"]
    models = sorted(first, key=lambda m: (params[m] is None, params[m] or 0, first[m]))
    return models, params


def _mean_with_ci(items: list[tuple[float, tuple[float, float] | None]]):
    """Mean of per-set drops; CI from the per-set CIs as independent normal errors (exact for one set)."""
    k = len(items)
    mean = sum(v for v, _ in items) / k
    if any(ci is None for _, ci in items):
        return mean, None
    if k == 1:
        return mean, items[0][1]
    se = math.sqrt(sum(((hi - lo) / (2 * Z95)) ** 2 for _, (lo, hi) in items)) / k
    return mean, (mean - Z95 * se, mean + Z95 * se)


def _mean_drops(task_rows: list[dict], models: list[str]) -> dict[str, dict]:
    """recipe -> {"sets": [...common sets...], model: (mean, ci)}: the mean over the language sets
    that every model evaluated under that recipe has, so models are compared on the same sets."""
    idx = {(r["model"], r["lang"], r["dataset"], r["recipe"]): r for r in task_rows}
    out: dict[str, dict] = {}
    for rec in _recipe_order(r["recipe"] for r in task_rows):
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
                entry[m] = _mean_with_ci([(idx[(m, l, d, rec)]["drop"], idx[(m, l, d, rec)]["drop_ci"]) for l, d in common])
        out[rec] = entry
    return out


def _set_labels(sets: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Language code alone, or lang/dataset where one language has several sets."""
    per_lang: dict[str, int] = {}
    for lang, _ in sets:
        per_lang[lang] = per_lang.get(lang, 0) + 1
    return {(l, d): l if per_lang[l] == 1 else f"{l}/{d}" for l, d in sets}


# ---------------------------------------------------------------------------------------------
# Plots (matplotlib imported here only)


def _mpl_context():
    import matplotlib
    import matplotlib.style

    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(matplotlib.style.context("default"))  # ignore the user's matplotlibrc
    stack.enter_context(
        matplotlib.rc_context(
            {
                "svg.hashsalt": "afroadv",
                "font.size": 10,
                "axes.titlesize": 11,
                "axes.labelsize": 10,
                "legend.fontsize": 9,
                "xtick.labelsize": 9,
                "ytick.labelsize": 9,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        )
    )
    return stack


def _new_figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    FigureCanvasAgg(fig)  # Agg explicitly, without pyplot or touching the global backend
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, metadata={"Software": None})
    return buf.getvalue()


def _recipe_colors(recipes: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"] if len(recipes) <= 10 else colormaps["tab20"]
    return {r: cmap(i % cmap.N) for i, r in enumerate(recipes)}


def _plot_drops(task: str, task_rows: list[dict], models: list[str], params: dict, colors: dict) -> bytes | None:
    pert = [r for r in task_rows if r["recipe"] != CLEAN and r["drop"] is not None]
    if not pert:
        return None
    recipes = _recipe_order(r["recipe"] for r in pert)
    sets = sorted({(r["lang"], r["dataset"]) for r in pert})
    labels = _set_labels(sets)
    models_here = [m for m in models if any(r["model"] == m for r in pert)]
    idx = {(r["model"], r["lang"], r["dataset"], r["recipe"]): r for r in pert}
    nr = len(recipes)
    width = 0.8 / nr
    w = min(max(6.5, 1.8 + len(sets) * (0.25 * nr + 0.35)), 18.0)
    fig = _new_figure(w, 0.6 + 2.6 * len(models_here))
    axes = fig.subplots(len(models_here), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for k, (ax, m) in enumerate(zip(axes, models_here)):
        for j, rec in enumerate(recipes):
            xs, ys, err_x, err_lo, err_hi = [], [], [], [], []
            for i, s in enumerate(sets):
                r = idx.get((m, s[0], s[1], rec))
                if r is None:
                    continue
                x = i - 0.4 + width * (j + 0.5)
                xs.append(x)
                ys.append(r["drop"])
                if r["drop_ci"]:
                    lo, hi = r["drop_ci"]
                    err_x.append(x)
                    err_lo.append(max(r["drop"] - lo, 0.0))
                    err_hi.append(max(hi - r["drop"], 0.0))
            ax.bar(xs, ys, width * 0.92, color=colors[rec], label=rec if k == 0 else "_nolegend_", zorder=2)
            if err_x:
                ys_err = [ys[xs.index(x)] for x in err_x]
                ax.errorbar(err_x, ys_err, yerr=[err_lo, err_hi], fmt="none", ecolor="0.15", elinewidth=0.9, capsize=2.5, zorder=3)
        ax.axhline(0, color="0.35", lw=0.8, zorder=1)
        ax.grid(axis="y", alpha=0.35, zorder=0)
        ax.set_title(f"{m} ({fmt_params(params.get(m))})", loc="left")
        ax.set_ylabel(f"drop, {METRIC_NAME[task]}")
    axes[-1].set_xticks(range(len(sets)), [labels[s] for s in sets])
    axes[-1].set_xlim(-0.6, len(sets) - 0.4)
    axes[-1].set_xlabel("language set")
    axes[0].legend(title="recipe", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle(f"{TASK_TITLE[task]}: drop under each recipe (clean − perturbed), 95% CI", fontsize=11.5)
    return _png(fig)


def _size_panels(by_task: dict[str, list[dict]], models: list[str], params: dict):
    """Per task: recipe -> [(params, mean, ci, model)], plus skip reasons for the text."""
    panels, reasons = {}, []
    for task in ("sts", "bitext"):
        rows = [r for r in by_task.get(task, []) if r["recipe"] != CLEAN and r["drop"] is not None]
        if not rows:
            continue
        tmodels = [m for m in models if any(r["model"] == m for r in rows)]
        sized = [m for m in tmodels if params.get(m) is not None]
        unsized = [m for m in tmodels if params.get(m) is None]
        if len(tmodels) < 2:
            reasons.append(f"only one model ({tmodels[0]}) has {task} results")
            continue
        if len(sized) < 2:
            reasons.append(f"{task} needs two models with a known parameter count (unknown for {', '.join(unsized)})")
            continue
        means = _mean_drops(rows, sized)
        lines = {}
        for rec, entry in means.items():
            pts = [(params[m], *entry[m], m) for m in sized if m in entry]
            if pts:
                lines[rec] = pts
        if not lines:
            reasons.append(f"the {task} models share no language set under any recipe")
            continue
        panels[task] = (lines, unsized)
    return panels, reasons


def _plot_size(panels: dict, colors: dict) -> bytes:
    from matplotlib.ticker import NullFormatter

    tasks = list(panels)
    fig = _new_figure(5.2 * len(tasks) + 1.6, 4.2)
    axes = fig.subplots(1, len(tasks), squeeze=False)[0]
    for ax, task in zip(axes, tasks):
        lines, _ = panels[task]
        xs_all = sorted({p for pts in lines.values() for p, *_ in pts})
        names: dict[int, list[str]] = {}
        for pts in lines.values():
            for p, _, _, m in pts:
                names.setdefault(p, [])
                if m not in names[p]:
                    names[p].append(m)
        nrec = len(lines)
        for j, (rec, pts) in enumerate(lines.items()):
            pts = sorted(pts, key=lambda t: t[0])
            jitter = 10 ** (0.02 * (j - (nrec - 1) / 2))  # side by side so error bars don't overlap
            xs = [p * jitter for p, *_ in pts]
            ys = [mean for _, mean, _, _ in pts]
            ax.plot(xs, ys, "-o", color=colors[rec], label=rec, ms=5, lw=1.6, zorder=3)
            ex = [(x, y, ci) for x, y, (_, _, ci, _) in zip(xs, ys, pts) if ci]
            if ex:
                ax.errorbar([x for x, _, _ in ex], [y for _, y, _ in ex],
                            yerr=[[max(y - ci[0], 0.0) for _, y, ci in ex], [max(ci[1] - y, 0.0) for _, y, ci in ex]],
                            fmt="none", ecolor=colors[rec], elinewidth=1.0, capsize=3, zorder=2)  # fmt: skip
        ax.set_xscale("log")
        ax.set_xticks(xs_all, [f"{fmt_params(p)}\n" + "\n".join(names[p]) for p in xs_all])
        ax.xaxis.set_minor_formatter(NullFormatter())
        lo, hi = xs_all[0], xs_all[-1]
        ax.set_xlim(lo / 1.8, hi * 1.8)
        ax.axhline(0, color="0.35", lw=0.8, zorder=1)
        ax.grid(alpha=0.3, zorder=0)
        ax.set_xlabel("parameters (log scale)")
        ax.set_ylabel(f"mean drop, {METRIC_NAME[task]}")
        ax.set_title(TASK_TITLE[task], loc="left")
    axes[-1].legend(title="recipe", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle("Drop against model size (mean over shared language sets, approx. 95% CI)", fontsize=11.5)
    return _png(fig)


# ---------------------------------------------------------------------------------------------
# Building the report


def _score_tables(task: str, rows: list[dict], models: list[str], params: dict) -> tuple[Table, Table]:
    tmodels = [m for m in models if any(r["model"] == m for r in rows)]
    idx = {(r["model"], r["lang"], r["dataset"], r["recipe"]): r for r in rows}
    keys = sorted({(r["lang"], r["dataset"], r["recipe"]) for r in rows}, key=lambda k: (k[0], k[1], k[2] != CLEAN, k[2]))
    heads = [m if params.get(m) is None else f"{m} ({fmt_params(params[m])})" for m in tmodels]
    main, scores = [], []
    for lang, ds, rec in keys:
        here = [idx.get((m, lang, ds, rec)) for m in tmodels]
        got = [r for r in here if r]
        n = _agree([r["n"] for r in got], str)
        if rec == CLEAN:
            changed = edit = DASH
            cells = [DASH if r is None else _with_ci(r["score"], r["score_ci"]) for r in here]
        else:
            changed = _agree([r["changed_share"] for r in got], _pct)
            edit = _agree([r["edit_rate"] for r in got], _pct)
            cells = [DASH if r is None else (_with_ci(r["drop"], r["drop_ci"]) + (" !" if untrustworthy(r["validation"]) else ""), r["drop"])
                     for r in here]  # fmt: skip
        main.append([lang, ds, rec, n, changed, edit, *cells])
        scores.append([lang, ds, rec, *[DASH if r is None else _f(r["score"]) for r in here]])
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


def _summary_table(task: str, rows: list[dict], models: list[str], params: dict) -> Table | None:
    tmodels = [m for m in models if any(r["model"] == m for r in rows)]
    means = _mean_drops(rows, tmodels)
    if not means:
        return None
    heads = [m if params.get(m) is None else f"{m} ({fmt_params(params[m])})" for m in tmodels]
    body = []
    for rec, entry in means.items():
        cells = []
        for m in tmodels:
            if m in entry:
                mean, ci = entry[m]
                cells.append((_with_ci(mean, ci), mean))
            else:
                cells.append(DASH)
        sets = entry["sets"]
        body.append([rec, str(len(sets)), ", ".join(_set_labels(sets).values()) or DASH, *cells])
    return Table(
        ["recipe", "sets", "language sets", *heads], body, 3,
        caption=f"Mean drop ({METRIC_NAME[task]}) over the language sets every model has for that recipe; "
        "CI combines the per-set CIs as independent errors (approximate).",
    )


def _invariance_table(rows: list[dict], models: list[str]) -> Table:
    order = {m: i for i, m in enumerate(models)}
    rows = sorted(rows, key=lambda r: (r["lang"], r["dataset"], r["recipe"], order[r["model"]]))
    body = [
        [r["lang"], r["dataset"] or DASH, r["recipe"], r["model"], str(r["n"]), _f(r["mean_cos_self"], 3),
         _f(r["mean_cos_random"], 3), _with_ci(r["margin"], r["margin_ci"], 3)]
        for r in rows
    ]  # fmt: skip
    return Table(
        ["lang", "dataset", "recipe", "model", "n", "cos(self)", "cos(random)", "margin"], body, 4,
        caption="Out-of-domain text without gold labels. `cos(self)`: mean cosine between a sentence and "
        "its perturbed self; `cos(random)`: between random pairs; `margin` = self − random with its 95% CI "
        "(higher means the encoder still tells the perturbed sentence apart from unrelated ones).",
    )


def _rate_with_ci(rate: float | None, ci) -> str:
    if rate is None:
        return DASH
    return f"{_pct(rate)} [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else _pct(rate)


def _validation_blocks(rows: list[dict]) -> list[tuple]:
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
            verdict = f"not trustworthy: the generator changes meaning in {_pct(1 - v['label_preserved'])} of pairs"
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


def _inputs_table(loaded: list[ResultsFile]) -> Table:
    body = []
    for rf in loaded:
        scalars = [f"{k}={v}" for k, v in sorted(rf.manifest.items()) if isinstance(v, (str, int, float, bool)) and v is not None]
        info = ", ".join(s if len(s) <= 60 else s[:57] + "..." for s in scalars[:8]) or DASH
        body.append([rf.path.name, rf.version, str(len(rf.rows)), rf.sha256[:12], info])
    return Table(["file", "afroadv", "rows", "sha256", "manifest"], body, 99)


def _seeds_table(loaded: list[ResultsFile]) -> Table | None:
    """Drops of the same set under different --seed values (another draw of the perturbation):
    the bootstrap CI covers the choice of pairs, this spread covers the draw."""
    drops: dict[tuple, dict] = {}
    for rf in loaded:
        seed = rf.manifest.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            continue
        for row in rf.rows:
            if row["recipe"] != CLEAN and row.get("drop") is not None:
                drops.setdefault(_key(row), {})[seed] = row["drop"]  # a later file wins per seed
    multi = {k: v for k, v in drops.items() if len(v) >= 2}
    if not multi:
        return None
    seeds = sorted({s for v in multi.values() for s in v})
    body = []
    for key in sorted(multi):
        by_seed = multi[key]
        vals = list(by_seed.values())
        mean = sum(vals) / len(vals)
        body.append([*key, *[_f(by_seed.get(s)) if s in by_seed else DASH for s in seeds],
                     (_f(mean), mean), _f(max(vals) - min(vals))])  # fmt: skip
    return Table(["model", "lang", "dataset", "recipe", *[f"seed {s}" for s in seeds], "mean", "spread"], body, 4,
                 "Drop (clean − perturbed) of the same set under each --seed, their mean, and max − min.")


def build_report(result_files: list[Path], out_dir: Path) -> dict[str, Path]:
    """Validate and merge results files; write report.md, report.html and the PNG plots into out_dir.

    Returns {"markdown": path, "html": path, <plot name without .png>: path, ...} for every file written.
    Raises AfroadvError (one line, naming the file) on a missing, malformed or wrong-version file.
    """
    files = [Path(p) for p in result_files]
    if not files:
        raise AfroadvError("no results files given")
    out_dir = check_out_dir(Path(out_dir), "report folder")
    loaded = [_load(p) for p in files]
    rows = _merge(loaded)
    if not rows:
        raise AfroadvError(f"no result rows in {', '.join(str(p) for p in files)}")

    models, params = _models_in_order(rows)
    by_task = {t: [r for r in rows if r["task"] == t] for t in TASKS}
    all_recipes = _recipe_order(r["recipe"] for r in rows if r["recipe"] != CLEAN)

    doc = Doc()
    doc.h(1, "afroadv robustness report")
    n_langs = len({r["lang"] for r in rows})
    doc.p(
        f"{len(rows)} results ({', '.join(f'{len(v)} {t}' for t, v in by_task.items() if v)}) for "
        f"{len(models)} model(s), {n_langs} language(s) and {len(all_recipes)} recipe(s), "
        f"merged from {len(loaded)} file(s); report by afroadv {__version__}. "
        "Where files overlap, the later file's row wins (rows under other seeds: see Across seeds)."
    )
    doc.h(2, "Models and inputs")
    labels = {r["model"]: r["model_label"] for r in rows if r.get("model_label")}
    doc.table(Table(["model", "what it is", "parameters"],
                    [[m, labels.get(m, DASH), fmt_params(params[m])] for m in models], 2))
    doc.table(_inputs_table(loaded))

    images: dict[str, bytes] = {}
    plot_text: list = []  # ("figure", name, alt, caption) or ("note", text), in report order
    need_plots = any(r["recipe"] != CLEAN and r.get("drop") is not None for r in rows if r["task"] in SCORE)
    if need_plots:
        with _mpl_context():
            colors = _recipe_colors(all_recipes)
            for task in ("sts", "bitext"):
                if not by_task[task]:
                    continue
                png = _plot_drops(task, by_task[task], models, params, colors)
                name = f"drop_{task}.png"
                if png is None:
                    plot_text.append(("note", f"Plot `{name}` skipped: no perturbed {task} rows with a drop."))
                    continue
                images[name] = png
                plot_text.append(("figure", name, f"{TASK_TITLE[task]}: drop by recipe and language",
                                  f"{TASK_TITLE[task]}: drop (clean − perturbed, {METRIC_NAME[task]}) under each "
                                  "recipe per language set, one panel per model; error bars: paired-bootstrap 95% CI."))  # fmt: skip
            panels, reasons = _size_panels(by_task, models, params)
            if panels:
                images["drop_vs_size.png"] = _plot_size(panels, colors)
                left_out = sorted({m for _, unsized in panels.values() for m in unsized})
                cap = ("Mean drop over the language sets the sized models share, against parameter count "
                       "(log axis), one line per recipe; error bars: approximate 95% CI of the mean.")  # fmt: skip
                if left_out:
                    cap += f" Left out (parameter count unknown): {', '.join(left_out)}."
                plot_text.append(("figure", "drop_vs_size.png", "Drop against model size", cap))
                for r in reasons:
                    plot_text.append(("note", f"Drop against model size: a panel is missing because {r}."))
            else:
                plot_text.append(("note", "Plot `drop_vs_size.png` skipped: " + ("; ".join(reasons) or "no perturbed rows") + "."))
    else:
        plot_text.append(("note", "Plots skipped: no perturbed sts or bitext rows (only clean or invariance results)."))

    doc.h(2, "Plots")
    for item in plot_text:
        if item[0] == "figure":
            doc.figure(*item[1:])
        else:
            doc.note(item[1])

    for task in ("sts", "bitext"):
        trows = by_task[task]
        if not trows:
            continue
        doc.h(2, TASK_TITLE[task])
        main, scores = _score_tables(task, trows, models, params)
        doc.table(main)
        summary = _summary_table(task, trows, models, params)
        if summary is not None:
            doc.h(3, "Mean drop over languages")
            doc.table(summary)
        doc.h(3, "Scores")
        doc.table(scores)
    if by_task["invariance"]:
        doc.h(2, TASK_TITLE["invariance"])
        doc.table(_invariance_table(by_task["invariance"], models))
    doc.h(2, "Validation")
    doc.blocks.extend(_validation_blocks(rows))
    seeds = _seeds_table(loaded)
    if seeds is not None:
        doc.h(2, "Across seeds")
        doc.p("The same sets drawn with other `--seed` values: the paired-bootstrap CI above covers which pairs "
              "were sampled, not which words the recipe happened to change; this spread does. The tables above "
              "show the last file's seed.")  # fmt: skip
        doc.table(seeds)

    written: dict[str, Path] = {}
    for name, png in images.items():
        path = out_dir / name
        with atomic_path(path) as tmp:
            tmp.write_bytes(png)
        written[name.removesuffix(".png")] = path
    for name in PLOT_NAMES:  # a plot skipped this time must not linger from an earlier report
        if name not in images:
            (out_dir / name).unlink(missing_ok=True)
    md, page = out_dir / "report.md", out_dir / "report.html"
    write_text_atomic(md, _to_markdown(doc))
    write_text_atomic(page, _to_html(doc, images))
    return {"markdown": md, "html": page, **written}
