"""The report document as Markdown (report.md): tables as pipe tables, plots as image links."""

from __future__ import annotations

from afroadv.report.tables import Doc, Table, cell_text


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Doc) -> str:
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
                out.append("| " + " | ".join(_md_cell(cell_text(c)) for c in r) + " |")
            out.append("")
        elif b[0] == "figure":
            _, name, alt, caption = b
            out += [f"![{alt}]({name})", "", f"*{caption}*", ""]
    return "\n".join(out).rstrip("\n") + "\n"
