"""The report's document model, shared by every output: headings, paragraphs, notes, tables and
figures as blocks (rendered by `markdown.py` and `html.py`), and the number formats of its cells."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DASH = "–"  # a missing cell; never confused with a minus sign


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


def cell_text(c) -> str:
    return c[0] if isinstance(c, tuple) else c


def fmt(v: float | None, d: int = 1) -> str:
    if v is None:
        return "n/a"
    s = f"{v:.{d}f}"
    return s[1:] if re.fullmatch(r"-0\.?0*", s) else s  # no "-0.0"


def with_ci(v: float | None, ci, d: int = 1) -> str:
    s = fmt(v, d)
    return f"{s} [{fmt(ci[0], d)}, {fmt(ci[1], d)}]" if v is not None and ci else s


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def fmt_params(p: int | None) -> str:
    if p is None:
        return "size unknown"
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if p >= div:
            return f"{p / div:.3g}{suffix}"
    return str(p)


def agree(values: list, fmt) -> str:
    """One shared value, or the range when models disagree (e.g. different --limit)."""
    vals = sorted({v for v in values if v is not None})
    if not vals:
        return DASH
    return fmt(vals[0]) if len(vals) == 1 else f"{fmt(vals[0])}{DASH}{fmt(vals[-1])}"


TASK_TITLE = {"sts": "Semantic similarity (STS)", "ordinal": "Ordinal relatedness (out-of-domain, no gold STS)",
              "bitext": "Bitext retrieval", "invariance": "Invariance (no gold labels)"}
METRIC_NAME = {"sts": "Spearman ×100", "ordinal": "Spearman ×100 vs relatedness level", "bitext": "accuracy ×100"}
