"""One self-contained HTML review page for a sheet, for reviewers who do not use spreadsheets: every
record with its changed words highlighted, yes / no / unsure buttons, a note field, work kept in the
browser's localStorage, and a button that downloads the filled sheet as CSV in the sheet format, so
`afroadv validate score` reads it. No external assets and no network: it can be mailed as one file.
"""

from __future__ import annotations

import difflib
import hashlib
import html
import json
import re
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.validate.sheet import JUDGMENTS, SHEET_COLUMNS, parse_answer, read_sheet_rows, write_bytes_atomic

_TOKEN = re.compile(r"\s+|\S+")

CSS = """
body { font: 16px/1.5 -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans Ethiopic", "Noto Naskh Arabic", Arial, sans-serif;
       color: #1d1d1f; background: #f6f6f8; margin: 0; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: 10px 24px; z-index: 1; }
header h1 { font-size: 20px; margin: 0 0 4px; }
header p { margin: 4px 0; color: #444; font-size: 14px; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 80px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; margin: 14px 0; }
section.done { border-left: 5px solid #2e7d32; }
h2 { font-size: 15px; margin: 0 0 6px; font-weight: 600; }
h2 code { font-size: 13px; background: #f0f0f3; padding: 1px 4px; border-radius: 3px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.pair h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: #777; margin: 4px 0; }
.s { white-space: pre-wrap; margin: 4px 0 8px; padding: 6px 8px; background: #fafafa; border-radius: 4px; unicode-bidi: plaintext; }
mark { background: #ffe082; }
.was { background: #e3f2fd; }
.q { margin: 6px 0; }
.q span { display: inline-block; min-width: 150px; font-weight: 600; }
button { font: inherit; padding: 3px 12px; margin-right: 4px; border: 1px solid #bbb; background: #fff; border-radius: 4px; cursor: pointer; }
button.on[data-v="yes"] { background: #c8e6c9; border-color: #2e7d32; }
button.on[data-v="no"] { background: #ffcdd2; border-color: #c62828; }
button.on[data-v="unsure"] { background: #e0e0e0; border-color: #555; }
textarea { width: 100%; box-sizing: border-box; font: inherit; min-height: 2.2em; }
#download { background: #1565c0; color: #fff; border-color: #1565c0; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  var COLUMNS = JSON.parse(document.getElementById("columns").textContent);
  var ROWS = JSON.parse(document.getElementById("rows").textContent);
  var META = JSON.parse(document.getElementById("meta").textContent);
  var KEY = "afroadv-review:" + META.digest;
  var state = {reviewer: "", rows: {}};
  try { state = JSON.parse(localStorage.getItem(KEY)) || state; } catch (e) {}
  ROWS.forEach(function (r) {
    if (!state.rows[r.id]) { state.rows[r.id] = {label_preserved: r.label_preserved, realistic: r.realistic, note: r.note}; }
  });
  function save() { try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) {} }
  function render() {
    var done = 0;
    document.querySelectorAll("section[data-id]").forEach(function (sec) {
      var s = state.rows[sec.getAttribute("data-id")];
      sec.querySelectorAll(".q").forEach(function (q) {
        q.querySelectorAll("button").forEach(function (b) {
          b.classList.toggle("on", b.getAttribute("data-v") === s[q.getAttribute("data-col")]);
        });
      });
      var complete = s.label_preserved !== "" && s.realistic !== "";
      sec.classList.toggle("done", complete);
      if (complete) { done += 1; }
    });
    document.getElementById("progress").textContent = done + " / " + ROWS.length + " judged";
  }
  document.querySelectorAll("section[data-id]").forEach(function (sec) {
    var s = state.rows[sec.getAttribute("data-id")];
    sec.querySelectorAll(".q button").forEach(function (b) {
      b.addEventListener("click", function () {
        var col = b.parentNode.getAttribute("data-col"), v = b.getAttribute("data-v");
        s[col] = s[col] === v ? "" : v;
        save(); render();
      });
    });
    var note = sec.querySelector("textarea");
    note.value = s.note;
    note.addEventListener("input", function () { s.note = note.value; save(); });
  });
  var who = document.getElementById("reviewer");
  who.value = state.reviewer || "";
  who.addEventListener("input", function () { state.reviewer = who.value; save(); });
  function field(v) {
    v = v == null ? "" : String(v);
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  function toCsv() {
    var lines = [COLUMNS.map(field).join(",")];
    ROWS.forEach(function (r) {
      var s = state.rows[r.id];
      lines.push(COLUMNS.map(function (c) { return field(c in s ? s[c] : r[c]); }).join(","));
    });
    return lines.join("\n") + "\n";
  }
  document.getElementById("download").addEventListener("click", function () {
    var name = (who.value || "").trim().replace(/[^\p{L}\p{N}_.-]+/gu, "-");
    if (!name) { alert("Enter your name first: it names the file, and afroadv validate score reads it as the reviewer."); who.focus(); return; }
    var url = URL.createObjectURL(new Blob([toCsv()], {type: "text/csv;charset=utf-8"}));
    var a = document.createElement("a");
    a.href = url; a.download = name + ".csv";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  window.afroadvReviewCsv = toCsv;
  render();
})();
"""


def _script_json(value) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can close it or start markup."""
    text = json.dumps(value, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def highlight(before: str, after: str) -> tuple[str, str]:
    """Both sentences as escaped HTML, the words that differ wrapped: removed in `before`, new in `after`."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for out, tokens, cls in ((left, a[i1:i2], "was"), (right, b[j1:j2], None)):
            for t in tokens:
                text = html.escape(t)
                if op == "equal" or t.isspace():
                    out.append(text)
                else:
                    out.append(f'<span class="was">{text}</span>' if cls else f"<mark>{text}</mark>")
    return "".join(left), "".join(right)


def _record(i: int, row: dict) -> str:
    o1, p1 = highlight(row["orig_sentence1"], row["sentence1"])
    o2, p2 = highlight(row["orig_sentence2"], row["sentence2"])
    score = f' <span class="score">gold score {html.escape(row["score"])}</span>' if row["score"].strip() else ""
    questions = "".join(
        f'<div class="q" data-col="{col}"><span>{label}</span>'
        + "".join(f'<button type="button" data-v="{v}">{v}</button>' for v in ("yes", "no", "unsure"))
        + "</div>"
        for col, label in (("label_preserved", "Label preserved?"), ("realistic", "Realistic?"))
    )
    return (
        f'<section data-id="{html.escape(row["id"])}"><h2>{i}. <code>{html.escape(row["id"])}</code>{score}</h2>'
        f'<div class="pair"><div><h3>original</h3><p class="s" dir="auto">{o1}</p><p class="s" dir="auto">{o2}</p></div>'
        f'<div><h3>perturbed</h3><p class="s" dir="auto">{p1}</p><p class="s" dir="auto">{p2}</p></div></div>'
        f'{questions}<textarea placeholder="note (optional)" aria-label="note"></textarea></section>'
    )


def review_page(sheet: Path) -> str:
    """The review page for one sheet as HTML text (answers already in the sheet are kept)."""
    sheet = Path(sheet)
    header, rows = read_sheet_rows(sheet)
    missing = [c for c in SHEET_COLUMNS if c not in header]
    if missing:
        raise AfroadvError(f"{sheet}: not a review sheet (missing column {', '.join(missing)})")
    rows = [{c: row.get(c, "") for c in SHEET_COLUMNS} for row in rows if row.get("id", "").strip()]
    if not rows:
        raise AfroadvError(f"{sheet}: no rows to review")
    for row in rows:
        for c in JUDGMENTS:
            row[c] = parse_answer(row[c], sheet, row["id"], c) or ""
    digest = hashlib.sha256(sheet.read_bytes()).hexdigest()[:16]
    title = f"afroadv review: {sheet.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        "<style>" + CSS + "</style>",
        "</head>",
        "<body>",
        f"<header><h1>{html.escape(title)}</h1>",
        "<p><b>Label preserved?</b> Does the gold similarity score still hold for the perturbed pair (compare it with "
        "the original)? <b>Realistic?</b> Would a real writer of the language type this? Answer <i>unsure</i> rather "
        "than guess. Highlighted: words the perturbation changed. Your answers stay in this browser until you download them.</p>",
        '<p><label>Your name <input id="reviewer" autocomplete="name"></label> <span id="progress"></span> '
        '<button type="button" id="download">Download sheet (CSV)</button></p></header>',
        "<main>",
        *(_record(i, row) for i, row in enumerate(rows, 1)),
        "</main>",
        f'<script type="application/json" id="columns">{_script_json(list(SHEET_COLUMNS))}</script>',
        f'<script type="application/json" id="rows">{_script_json(rows)}</script>',
        f'<script type="application/json" id="meta">{_script_json({"digest": digest, "sheet": sheet.name})}</script>',
        "<script>" + SCRIPT + "</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_review_page(sheet: Path, out: Path) -> Path:
    if Path(out).suffix.lower() not in (".html", ".htm"):
        raise AfroadvError(f"the review page is an .html file: {out}")
    write_bytes_atomic(out, review_page(sheet).encode("utf-8"))
    return Path(out)
