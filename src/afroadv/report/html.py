"""The report document as one self-contained HTML page (report.html): CSS inline, plots embedded as
base64 PNG data URIs, no external assets and no JavaScript, so it can be mailed as a single file."""

from __future__ import annotations

import base64
import html
import re

from afroadv.report.tables import Doc, Table, cell_text


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


def to_html(doc: Doc, images: dict[str, bytes]) -> str:
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
                    tds.append(f"<td{cls(i)}{style}>{html.escape(cell_text(c))}</td>")
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
