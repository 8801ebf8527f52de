"""Atomic writers: a file appears whole under its final name or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from afroadv.errors import AfroadvError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path):
    """Yield a temp path in the destination folder; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AfroadvError(f"cannot create folder {path.parent}: {e.strerror}") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def dumps_record(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def write_records(path: Path, records: list[dict], columns: list[str]) -> None:
    """JSONL (one object per line, fixed key order) or Parquet, chosen by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise AfroadvError(f"output must end in .jsonl or .parquet: {path}")
    with atomic_path(path) as tmp:
        if suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8", newline="\n") as f:
                for r in records:
                    f.write(dumps_record({c: r[c] for c in columns}) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist([{c: r[c] for c in columns} for r in records])
            pq.write_table(table, tmp)


def manifest_path(out: Path) -> Path:
    out = Path(out)
    return out.with_name(out.name.rsplit(".", 1)[0] + ".manifest.json")


def write_manifest(out: Path, manifest: dict) -> Path:
    path = manifest_path(out)
    write_text_atomic(path, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return path
