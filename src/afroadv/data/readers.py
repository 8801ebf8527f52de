"""Readers from files to Pair records. Each validates what it reads and names the problem in one line.

- SemRel 2024 CSV: `PairID,Text,Score` where Text is sentence1 + newline + sentence2 (a TAB in afr
  test; afr dev spells the column `score`); scores 0–1.
- STS-B TSV: no header, no quoting: genre, file, year, id, score (0–5), s1, s2 [, extra columns].
- Generic CSV / TSV / JSONL with columns sentence1, sentence2, score (and optional id).
- Plain text (.txt), one sentence per line: invariance pairs (a sentence against its perturbed self).
- Bitext: two line-aligned files (Tatoeba, NTREX-128), X side first.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from afroadv.data.pairs import Pair
from afroadv.errors import AfroadvError
from afroadv.text import nfc

csv.field_size_limit(1 << 24)


def read_text(path: Path) -> str:
    """UTF-8 text (a leading BOM dropped); every failure is a one-line AfroadvError."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AfroadvError(f"file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise AfroadvError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise AfroadvError(f"cannot read {path}: {e.strerror}") from None


def read_lines(path: Path) -> list[str]:
    """Lines split on "\n" only (CR dropped): str.splitlines() also breaks at U+2028, U+0085, \x0c ...,
    which would silently shift one side of a line-aligned corpus."""
    lines = [line.removesuffix("\r") for line in read_text(path).split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _score(value, where: str) -> float:
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise AfroadvError(f"{where}: score {value!r} is not a number") from None
    if math.isnan(s) or math.isinf(s):
        raise AfroadvError(f"{where}: score is {value!r}; every pair needs a finite gold score")
    return s


def _check_text(s1: str, s2: str, where: str) -> None:
    if not s1.strip() or not s2.strip():
        raise AfroadvError(f"{where}: empty sentence")


def _dict_rows(text: str, delimiter: str, path: Path) -> list[dict]:
    reader = csv.DictReader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as e:
        raise AfroadvError(f"{path}: malformed {'TSV' if delimiter == chr(9) else 'CSV'} at line {reader.line_num}: {e}") from None
    if reader.fieldnames is None:
        raise AfroadvError(f"{path}: empty file")
    for i, row in enumerate(rows, start=2):
        if None in row or any(v is None for v in row.values()):
            raise AfroadvError(f"{path}: malformed row {i}: expected {len(reader.fieldnames)} columns")
    return rows


def read_semrel(path: Path, lang: str) -> list[Pair]:
    path = Path(path)
    rows = _dict_rows(read_text(path), ",", path)
    if not rows:
        raise AfroadvError(f"{path}: no pairs")
    cols = {c.lower(): c for c in rows[0]}
    missing = [c for c in ("pairid", "text", "score") if c not in cols]
    if missing:
        raise AfroadvError(f"{path}: missing column(s) {', '.join(missing)} (SemRel needs PairID, Text, Score)")
    pairs = []
    for i, row in enumerate(rows, start=2):
        where = f"{path}:{i}"
        text = row[cols["text"]]
        sep = "\t" if "\t" in text else "\n"
        parts = text.split(sep)
        if len(parts) != 2:
            raise AfroadvError(f"{where}: Text must hold two sentences separated by a newline or TAB")
        s1, s2 = (nfc(p.strip()) for p in parts)
        _check_text(s1, s2, where)
        pairs.append(Pair(row[cols["pairid"]], lang, "sts", s1, s2, _score(row[cols["score"]], where)))
    return pairs


def read_stsb(path: Path, lang: str = "eng") -> list[Pair]:
    """STS-B's own TSV: tabs only, quotes are text (reading it as CSV silently merges lines)."""
    path = Path(path)
    pairs = []
    for i, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        cols = line.split("\t")
        where = f"{path}:{i}"
        if len(cols) < 7:
            raise AfroadvError(f"{where}: STS-B rows need 7 tab-separated columns, found {len(cols)}")
        s1, s2 = nfc(cols[5].strip()), nfc(cols[6].strip())
        _check_text(s1, s2, where)
        pairs.append(Pair(f"stsb-{cols[1]}-{cols[2]}-{cols[3]}-{i}", lang, "sts", s1, s2, _score(cols[4], where)))
    if not pairs:
        raise AfroadvError(f"{path}: no pairs")
    return pairs


def _generic_rows_to_pairs(rows: list[dict], path: Path, lang: str, first_line: int) -> list[Pair]:
    if not rows:
        raise AfroadvError(f"{path}: no pairs")
    cols = set(rows[0])
    missing = [c for c in ("sentence1", "sentence2") if c not in cols]
    if missing:
        raise AfroadvError(f"{path}: missing column(s) {', '.join(missing)} (need sentence1, sentence2[, score, id])")
    has_score = "score" in cols
    pairs = []
    for i, row in enumerate(rows, start=first_line):
        where = f"{path}:{i}"
        s1, s2 = row.get("sentence1"), row.get("sentence2")
        if not isinstance(s1, str) or not isinstance(s2, str):
            raise AfroadvError(f"{where}: sentence1 and sentence2 must be text")
        s1, s2 = nfc(s1.strip()), nfc(s2.strip())
        _check_text(s1, s2, where)
        score = _score(row.get("score"), where) if has_score else None
        task = row.get("task") or ("sts" if has_score else "bitext")
        pid = str(row.get("id") or row.get("source_id") or f"{path.stem}-{i - first_line + 1}")
        pairs.append(Pair(pid, str(row.get("lang") or lang), task, s1, s2, score))
    return pairs


def read_generic(path: Path, lang: str) -> list[Pair]:
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise AfroadvError(f"{path}:{i}: malformed JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise AfroadvError(f"{path}:{i}: each line must be a JSON object")
            rows.append(row)
        return _generic_rows_to_pairs(rows, path, lang, 1)
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    return _generic_rows_to_pairs(_dict_rows(text, delimiter, path), path, lang, 2)


def read_bitext(src: Path, eng: Path, lang: str, id_prefix: str) -> list[Pair]:
    a = read_lines(src)
    b = read_lines(eng)
    if len(a) != len(b):
        raise AfroadvError(f"bitext files are not aligned: {src} has {len(a)} lines, {eng} has {len(b)}")
    pairs = []
    for i, (x, e) in enumerate(zip(a, b), start=1):
        x, e = nfc(x.strip()), nfc(e.strip())
        if not x or not e:
            continue  # an untranslated line is a gap in the set, not a pair
        pairs.append(Pair(f"{id_prefix}-{i}", lang, "bitext", x, e, None))
    if not pairs:
        raise AfroadvError(f"{src}: no aligned sentences")
    return pairs


def read_invariance(path: Path, lang: str, id_prefix: str) -> list[Pair]:
    """Unlabelled text (a TSV with a text column — tweet / text — or one sentence per line) as
    invariance pairs: sentence1 is perturbed, sentence2 keeps the original."""
    path = Path(path)
    lines = read_lines(path)
    if path.suffix == ".tsv" and lines:
        header = lines[0].split("\t")
        col = next((i for i, c in enumerate(header) if c in ("tweet", "text", "sentence")), None)
        if col is None:
            raise AfroadvError(f"{path}: missing text column (tweet, text or sentence)")
        texts = [(f"{id_prefix}-{i}", row.split("\t")[col] if len(row.split("\t")) > col else "") for i, row in enumerate(lines[1:], 1)]
    else:
        texts = [(f"{id_prefix}-{i}", line) for i, line in enumerate(lines, 1)]
    pairs = [Pair(pid, lang, "invariance", nfc(t.strip()), nfc(t.strip()), None) for pid, t in texts if t.strip()]
    if not pairs:
        raise AfroadvError(f"{path}: no text")
    return pairs


def read_verses(path: Path) -> list[tuple[str, str]]:
    """(verse id, text) from a `verse_id<TAB>text` TSV (data/ood/bible), NFC, empty verses dropped."""
    path = Path(path)
    lines = read_lines(path)
    if not lines or lines[0].split("\t")[:2] != ["verse_id", "text"]:
        raise AfroadvError(f"{path}: expected a verse_id<TAB>text header")
    out = []
    for i, line in enumerate(lines[1:], start=2):
        cols = line.split("\t")
        if len(cols) != 2:
            raise AfroadvError(f"{path}:{i}: expected 2 tab-separated columns, found {len(cols)}")
        if cols[1].strip():
            out.append((cols[0], nfc(cols[1].strip())))
    return out


SCALES = ((0.0, 1.0), (0.0, 5.0))  # SemRel-style relatedness, STS-B similarity


def score_scale(pairs: list[Pair], where: Path | str, declared: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """The gold scale of a set's scores — `declared`, else the smallest of 0–1 / 0–5 holding them —
    after checking every score lies inside it; None when the set has no scores."""
    scored = [p for p in pairs if p.score is not None]
    if not scored:
        return None
    low = min(scored, key=lambda p: p.score)
    high = max(scored, key=lambda p: p.score)
    scale = declared or next((sc for sc in SCALES if sc[0] <= low.score and high.score <= sc[1]), None)
    if scale is None or low.score < scale[0] or high.score > scale[1]:
        bad = low if low.score < (scale or SCALES[-1])[0] else high
        allowed = f"{scale[0]:g}–{scale[1]:g}" if scale else "0–1 or 0–5"
        raise AfroadvError(f"{where}: pair {bad.id} has score {bad.score:g}, outside the gold scale {allowed}")
    return scale


def check_unique_ids(pairs: list[Pair], where: Path | str) -> None:
    """Pair ids name random streams and output records: two pairs with one id would get identical
    edits and repeated output ids."""
    seen: set[str] = set()
    for p in pairs:
        if p.id in seen:
            raise AfroadvError(f"{where}: duplicate pair id {p.id!r} (ids must be unique; drop the id column to number rows)")
        seen.add(p.id)


def read_pairs_file(path: Path, lang: str) -> list[Pair]:
    """Read a user-supplied file, telling SemRel CSV, STS-B TSV and generic tables apart by content;
    ids unique, scores inside their gold scale."""
    return read_scored_file(path, lang)[0]


def read_scored_file(path: Path, lang: str) -> tuple[list[Pair], tuple[float, float] | None]:
    """read_pairs_file's pairs and their gold scale (SemRel 0–1 and STS-B 0–5 as declared by the
    format, else inferred from the scores)."""
    path = Path(path)
    pairs, declared = _read_pairs_file(path, lang)
    check_unique_ids(pairs, path)
    return pairs, score_scale(pairs, path, declared)


def _read_pairs_file(path: Path, lang: str) -> tuple[list[Pair], tuple[float, float] | None]:
    if not path.exists():
        raise AfroadvError(f"dataset file not found: {path}")
    if path.is_dir():
        raise AfroadvError(f"dataset path is a folder, not a file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(path).to_pylist()
        except Exception as e:  # pyarrow raises many types for bad files
            raise AfroadvError(f"{path}: unreadable parquet ({type(e).__name__})") from None
        return _generic_rows_to_pairs(rows, path, lang, 1), None
    if suffix in (".jsonl", ".json"):
        return read_generic(path, lang), None
    if suffix == ".txt":  # running text, one sentence per line: each against its perturbed self
        return read_invariance(path, lang, path.stem), None
    header = read_text(path).split("\n", 1)[0]
    if header.lower().startswith("pairid,"):
        return read_semrel(path, lang), SCALES[0]
    if "sentence1" in header:
        return read_generic(path, lang), None
    if header.count("\t") >= 6:
        return read_stsb(path, lang), SCALES[1]
    raise AfroadvError(
        f"{path}: missing columns: need sentence1, sentence2[, score] (or SemRel PairID,Text,Score, or STS-B TSV)"
    )
