"""Review sheets: a stratified, seeded sample of a generated set's changed pairs written as CSV for
reviewers, and the filled sheets read back as judgments.

Only changed pairs are sampled: an unchanged pair keeps its gold score by construction, so judging
it would only inflate the rates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from afroadv.data.sets import read_set_records
from afroadv.data.writers import atomic_path, manifest_path, read_set_manifest
from afroadv.errors import AfroadvError

SET_COLUMNS = ("id", "source_id", "lang", "task", "recipe", "sentence1", "sentence2", "score",
               "orig_sentence1", "orig_sentence2", "changed", "edit_rate", "seed")  # fmt: skip
SHEET_COLUMNS = ("id", "orig_sentence1", "orig_sentence2", "sentence1", "sentence2", "score", "label_preserved", "realistic", "note")
JUDGMENTS = ("label_preserved", "realistic")
ANSWERS = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "unsure": "unsure", "?": "unsure", "": None}


@dataclass
class LoadedSet:
    path: Path
    records: list[dict]
    manifest: dict | None


def read_manifest(set_path: Path) -> dict | None:
    """The `FILE.manifest.json` beside a set (checked against the data's sha256), or None when there is none."""
    return read_set_manifest(set_path)


def read_set(path: Path) -> LoadedSet:
    """A set written by `afroadv generate` (JSONL or Parquet) and its manifest, checked for the columns a review needs."""
    path = Path(path)
    records = read_set_records(path)
    for i, r in enumerate(records, 1):
        missing = [c for c in SET_COLUMNS if not isinstance(r, dict) or c not in r]
        if missing:
            raise AfroadvError(f"{path}: record {i} is not from a set written by afroadv generate (missing {', '.join(missing)})")
    return LoadedSet(path, records, read_manifest(path))


def _rank(seed: int, *parts: str) -> bytes:
    """A record's place in a seeded random order: it depends on the seed and the record's own id only,
    so the sample does not move when other records or the file order change."""
    return hashlib.sha256("\x1f".join((str(seed), *parts)).encode("utf-8")).digest()


def _edit_rate(r: dict, path: Path) -> float:
    v = r["edit_rate"]
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise AfroadvError(f"{path}: record {r['id']}: edit_rate must be a number")
    return float(v)


def _strata(sets: list[LoadedSet]) -> dict[tuple, list[dict]]:
    """Changed records by (lang, recipe, edit-rate tercile); terciles are cut within each (lang, recipe)
    because recipes edit at very different rates (translit rewrites every word, codeswitch a few)."""
    groups: dict[tuple, list[tuple[float, dict]]] = {}
    owner: dict[str, Path] = {}
    for s in sets:
        for r in s.records:
            rid = str(r["id"])
            if rid in owner:
                raise AfroadvError(f"record id {rid} is in both {owner[rid]} and {s.path}: sample sets with distinct ids")
            owner[rid] = s.path
            if r["changed"] is True:
                groups.setdefault((str(r["lang"]), str(r["recipe"])), []).append((_edit_rate(r, s.path), r))
    strata: dict[tuple, list[dict]] = {}
    for (lang, recipe), members in sorted(groups.items()):
        rates = sorted(rate for rate, _ in members)
        cuts = (rates[len(rates) // 3], rates[2 * len(rates) // 3])
        for rate, r in members:
            strata.setdefault((lang, recipe, sum(rate >= c for c in cuts)), []).append(r)
    return strata


def allocate(sizes: dict[tuple, int], n: int, seed: int = 0) -> dict[tuple, int]:
    """How many to draw per stratum: one from every stratum while n allows, the rest in proportion to what
    each stratum has left, largest remainder first (ties by stratum), so the total is exactly min(n, all)."""
    keys = sorted(sizes)
    if n >= sum(sizes.values()):
        return {k: sizes[k] for k in keys}
    if n <= len(keys):
        chosen = sorted(keys, key=lambda k: (-sizes[k], _rank(seed, "stratum", *map(str, k))))[:n]
        return {k: int(k in chosen) for k in keys}
    rest, room = n - len(keys), {k: sizes[k] - 1 for k in keys}
    total_room = sum(room.values())
    take = {k: 1 + rest * room[k] // total_room for k in keys}
    by_remainder = sorted(keys, key=lambda k: (-(rest * room[k] % total_room), k))
    for k in by_remainder[: n - sum(take.values())]:
        take[k] += 1
    return take


def _score_text(score) -> str:
    return "" if score is None else json.dumps(score)


def sample_sheet(sets: list[Path], n: int, seed: int = 0) -> list[dict]:
    """Sheet rows for reviewers: a stratified sample of the changed records of one or more sets, sorted by id.
    The same sets and seed always give the same rows."""
    from afroadv.options import check_count, check_seed

    n, seed = check_count(n, "--n"), check_seed(seed)
    if not sets:
        raise AfroadvError("no set given")
    strata = _strata([read_set(p) for p in sets])
    if not strata:
        raise AfroadvError(f"no changed records in {', '.join(str(p) for p in sets)}: nothing to review")
    take = allocate({k: len(v) for k, v in strata.items()}, n, seed)
    chosen = [r for k, members in strata.items() for r in sorted(members, key=lambda r: _rank(seed, str(r["id"])))[: take[k]]]
    rows = [{"id": str(r["id"]), "orig_sentence1": r["orig_sentence1"], "orig_sentence2": r["orig_sentence2"],
             "sentence1": r["sentence1"], "sentence2": r["sentence2"], "score": _score_text(r["score"]),
             "label_preserved": "", "realistic": "", "note": ""} for r in chosen]  # fmt: skip
    return sorted(rows, key=lambda row: row["id"])


def sheet_csv(rows: list[dict], columns=SHEET_COLUMNS) -> str:
    """CSV text of sheet rows: RFC-4180 quoting (sentences hold commas, quotes and newlines), `\\n` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") or "" for c in columns])
    return buf.getvalue()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a whole file or nothing; an unwritable destination is a one-line AfroadvError."""
    path = Path(path)
    if path.is_dir():
        raise AfroadvError(f"cannot write {path}: it is a folder")
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as e:
        raise AfroadvError(f"cannot write {path}: {e.strerror or e}") from None


def write_sheet(out: Path, rows: list[dict]) -> None:
    if Path(out).suffix.lower() != ".csv":
        raise AfroadvError(f"a review sheet is a .csv file: {out}")
    write_bytes_atomic(out, sheet_csv(rows).encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Reading filled sheets


@dataclass(frozen=True)
class Judgment:
    """One reviewer's answers on one record: 'yes', 'no', 'unsure' or None (not judged)."""

    sheet: Path
    reviewer: str
    id: str
    label_preserved: str | None
    realistic: str | None


def _delimiter(first_line: str) -> str:
    """Comma, or the ; / tab a spreadsheet may have saved with in some locales."""
    for d in (",", ";", "\t"):
        if "id" in next(csv.reader([first_line], delimiter=d), []):
            return d
    return ","


def read_sheet_rows(path: Path) -> tuple[list[str], list[dict]]:
    """Header and rows of a sheet as written (a spreadsheet's BOM tolerated), every value a string."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise AfroadvError(f"sheet not found: {path}") from None
    except OSError as e:
        raise AfroadvError(f"cannot read sheet {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise AfroadvError(f"{path}: not UTF-8 text (save the sheet as 'CSV UTF-8')") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]), strict=True)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        rows = [{k: (v if isinstance(v, str) else "") for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as e:
        raise AfroadvError(f"{path}: malformed CSV ({e})") from None
    return header, rows


def parse_answer(value: str, path: Path, rid: str, column: str) -> str | None:
    """'yes', 'no', 'unsure' or None (blank) from what a reviewer typed; anything else is an error naming where."""
    key = value.strip().lower()
    if key not in ANSWERS:
        raise AfroadvError(f"{path}: row {rid}, column {column}: {value!r} is not yes / no / unsure (or y / n / ?, blank = not judged)")
    return ANSWERS[key]


def read_sheet(path: Path) -> list[Judgment]:
    """A reviewer's filled sheet: one Judgment per row. The reviewer is the row's `reviewer` column if set,
    else the file name's stem, so one file per reviewer needs no extra column."""
    path = Path(path)
    header, rows = read_sheet_rows(path)
    missing = [c for c in ("id", *JUDGMENTS) if c not in header]
    if missing:
        raise AfroadvError(f"{path}: not a review sheet (missing column {', '.join(missing)})")
    out = []
    for i, row in enumerate(rows, 1):
        rid = row.get("id", "").strip()
        if not rid:
            if any(v.strip() for v in row.values()):
                raise AfroadvError(f"{path}: data row {i} has no id")
            continue
        answers = {c: parse_answer(row.get(c, ""), path, rid, c) for c in JUDGMENTS}
        out.append(Judgment(path, row.get("reviewer", "").strip() or path.stem, rid, **answers))
    return out
