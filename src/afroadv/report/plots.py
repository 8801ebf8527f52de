"""The report's PNG plots: drop under each recipe per language set (one panel per model), and mean
drop against parameter count. matplotlib is imported inside these functions only, so importing the
report package stays light; PNGs carry no software tag and use matplotlib's default style whatever
the user's matplotlibrc, so the same inputs give byte-identical images."""

from __future__ import annotations

import io

from afroadv.report.aggregate import mean_drops, recipe_order, set_labels
from afroadv.report.load import CLEAN, SCORE
from afroadv.report.tables import METRIC_NAME, TASK_TITLE, fmt_params

PLOT_NAMES = ("drop_sts.png", "drop_bitext.png", "drop_vs_size.png")


def mpl_context():
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


def recipe_colors(recipes: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"] if len(recipes) <= 10 else colormaps["tab20"]
    return {r: cmap(i % cmap.N) for i, r in enumerate(recipes)}


def plot_drops(task: str, task_rows: list[dict], models: list[str], params: dict, colors: dict) -> bytes | None:
    pert = [r for r in task_rows if r["recipe"] != CLEAN and r["drop"] is not None]
    if not pert:
        return None
    recipes = recipe_order(r["recipe"] for r in pert)
    sets = sorted({(r["lang"], r["dataset"]) for r in pert})
    labels = set_labels(sets)
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


def size_panels(by_task: dict[str, list[dict]], models: list[str], params: dict):
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
        means = mean_drops(rows, sized)
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


def plot_size(panels: dict, colors: dict) -> bytes:
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


def plot_section(by_task: dict[str, list[dict]], models: list[str], params: dict, all_recipes: list[str]) -> tuple[dict[str, bytes], list]:
    """The PNGs by file name, and the Plots section's blocks (figures, and a note for each skipped plot)."""
    images: dict[str, bytes] = {}
    blocks: list = []  # ("figure", name, alt, caption) or ("note", text), in report order
    need_plots = any(r["recipe"] != CLEAN and r.get("drop") is not None for task in SCORE for r in by_task.get(task, []))
    if need_plots:
        with mpl_context():
            colors = recipe_colors(all_recipes)
            for task in ("sts", "bitext"):
                if not by_task[task]:
                    continue
                png = plot_drops(task, by_task[task], models, params, colors)
                name = f"drop_{task}.png"
                if png is None:
                    blocks.append(("note", f"Plot `{name}` skipped: no perturbed {task} rows with a drop."))
                    continue
                images[name] = png
                blocks.append(("figure", name, f"{TASK_TITLE[task]}: drop by recipe and language",
                               f"{TASK_TITLE[task]}: drop (clean − perturbed, {METRIC_NAME[task]}) under each "
                               "recipe per language set, one panel per model; error bars: paired-bootstrap 95% CI."))  # fmt: skip
            panels, reasons = size_panels(by_task, models, params)
            if panels:
                images["drop_vs_size.png"] = plot_size(panels, colors)
                left_out = sorted({m for _, unsized in panels.values() for m in unsized})
                cap = ("Mean drop over the language sets the sized models share, against parameter count "
                       "(log axis), one line per recipe; error bars: approximate 95% CI of the mean.")  # fmt: skip
                if left_out:
                    cap += f" Left out (parameter count unknown): {', '.join(left_out)}."
                blocks.append(("figure", "drop_vs_size.png", "Drop against model size", cap))
                for r in reasons:
                    blocks.append(("note", f"Drop against model size: a panel is missing because {r}."))
            else:
                blocks.append(("note", "Plot `drop_vs_size.png` skipped: " + ("; ".join(reasons) or "no perturbed rows") + "."))
    else:
        blocks.append(("note", "Plots skipped: no perturbed sts or bitext rows (only clean or invariance results)."))
    return images, blocks
