"""Reports: merge `afroadv evaluate` results files into Markdown, one self-contained HTML page, PNGs,
and long tables for pandas.

`build_report(files, out_dir, formats)` validates every results file (load.py: kind, afroadv
version, row fields), merges their rows (a later file wins on the same model, language, dataset
and recipe) and writes, per format:

- `md`: `report.md`, one table per task (STS, bitext, invariance) plus a mean-over-languages
  summary, the directional (should-change) pass rates, a Validation section and, with several
  seeds, an Across-seeds table;
- `html`: `report.html`, the same document as one page (html.py);
- `csv` / `parquet`: `report.csv` / `report.parquet`, one row per model × language set × recipe
  × metric (tidy.py);

and, with md or html, the plots (plots.py): `drop_<task>.png` and `drop_vs_size.png`. A plot whose
data is absent is skipped and the report says why. Output is deterministic: no timestamps, so the
same inputs give byte-identical files. Results of an older afroadv version are read with a note
(their sets were drawn by that version's recipes); a file that is another afroadv output (a
generated set, an attack, a sweep folder …) is named as such (identify.py). matplotlib and pyarrow
are imported only when needed: importing this package stays light.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from afroadv.data.writers import atomic_path, check_out_dir, write_text_atomic
from afroadv.errors import AfroadvError
from afroadv.report.document import report_document
from afroadv.report.html import to_html
from afroadv.report.identify import what_it_is
from afroadv.report.load import load_file, load_results, merge_loaded, merge_results, refuse_random_mix
from afroadv.report.markdown import to_markdown
from afroadv.report.plots import PLOT_NAMES
from afroadv.report.tables import fmt_params
from afroadv.report.tidy import tidy_rows, to_csv, to_parquet

__all__ = ["FORMATS", "build_report", "check_formats", "fmt_params", "load_results", "merge_results", "what_it_is"]

FORMATS = ("md", "html", "csv", "parquet")
DEFAULT_FORMATS = ("md", "html")


def check_formats(formats) -> tuple[str, ...]:
    """The requested formats (comma lists allowed), in FORMATS order; one-line error on an unknown one."""
    if formats is None:
        return DEFAULT_FORMATS
    if isinstance(formats, str):
        formats = [formats]
    asked = [f.strip().lower() for item in formats for f in str(item).split(",") if f.strip()]
    if not asked:
        raise AfroadvError(f"no report format given; choose from {', '.join(FORMATS)}")
    for f in asked:
        if f not in FORMATS:
            raise AfroadvError(f"unknown report format {f!r}; choose from {', '.join(FORMATS)}")
    if "parquet" in asked and importlib.util.find_spec("pyarrow") is None:
        raise AfroadvError("--format parquet needs pyarrow (pip install pyarrow); csv needs nothing")
    return tuple(f for f in FORMATS if f in asked)


def build_report(result_files: list[Path], out_dir: Path, formats=None) -> dict[str, Path]:
    """Validate and merge results files; write the formats asked (default md and html) into out_dir.

    Returns {"markdown": path, "html": path, <plot name without .png>: path, "csv": path, "parquet": path}
    for every file written. Raises AfroadvError (one line, naming the file) on a missing, malformed,
    newer-version or non-results file, or an unknown format, before writing anything.
    """
    formats = check_formats(formats)
    files = [Path(p) for p in result_files]
    if not files:
        raise AfroadvError("no results files given")
    out_dir = check_out_dir(Path(out_dir), "report folder")
    loaded = [load_file(p, older=True) for p in files]
    refuse_random_mix([(rf.path, rf.rows) for rf in loaded], "report")
    rows = merge_loaded(loaded)
    if not rows:
        raise AfroadvError(f"no result rows in {', '.join(str(p) for p in files)}")

    written: dict[str, Path] = {}
    if "md" in formats or "html" in formats:
        doc, images = report_document(loaded, rows)
        plots: dict[str, Path] = {}
        for name, png in images.items():
            path = out_dir / name
            with atomic_path(path) as tmp:
                tmp.write_bytes(png)
            plots[name.removesuffix(".png")] = path
        for name in PLOT_NAMES:  # a plot skipped this time must not linger from an earlier report
            if name not in images:
                (out_dir / name).unlink(missing_ok=True)
        if "md" in formats:
            written["markdown"] = out_dir / "report.md"
            write_text_atomic(written["markdown"], to_markdown(doc))
        if "html" in formats:
            written["html"] = out_dir / "report.html"
            write_text_atomic(written["html"], to_html(doc, images))
        written.update(plots)
    if "csv" in formats or "parquet" in formats:
        table = tidy_rows(loaded)
        if "csv" in formats:
            written["csv"] = out_dir / "report.csv"
            write_text_atomic(written["csv"], to_csv(table))
        if "parquet" in formats:
            written["parquet"] = out_dir / "report.parquet"
            with atomic_path(written["parquet"]) as tmp:
                tmp.write_bytes(to_parquet(table))
    return written
