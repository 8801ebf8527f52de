"""Atomic writers: a file appears whole under its final name or not at all."""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from afroadv.errors import AfroadvError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_destination(path: Path, what: str = "output") -> Path:
    """Before any work: `path` can be written as a file — not a folder, and its folder exists or can
    be made and is writable (tried with a real temp file, so read-only mounts and permissions both
    count). Nothing is created: a run that fails later leaves no empty folders behind."""
    path = Path(path)
    if path.is_dir():
        raise AfroadvError(f"{what} {path} is a folder; give a file name")
    _writable_folder(path.parent, what)
    remove_stale_temps(path.parent, path.name)
    return path


def check_out_dir(folder: Path, what: str = "output folder") -> Path:
    """Before any work: `folder` is a writable folder, or one that can be made (nothing is created)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise AfroadvError(f"{what} {folder} is a file; give a folder")
    _writable_folder(folder, what)
    return folder


def _writable_folder(folder: Path, what: str) -> None:
    """The folder, or the nearest existing folder above it (where it would be made), takes a file."""
    probe_in = folder
    while not probe_in.exists():
        if probe_in.parent == probe_in:
            break
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        raise AfroadvError(f"cannot create {what} folder {folder}: {probe_in} is a file")
    try:
        fd, probe = tempfile.mkstemp(prefix=".afroadv-probe.", dir=probe_in)
    except OSError as e:
        raise AfroadvError(f"cannot write in {probe_in}: {e.strerror}") from None
    os.close(fd)
    os.unlink(probe)


def _temp_prefix(name: str) -> str:
    return f".{name}.afroadv-"


def remove_stale_temps(folder: Path, name: str) -> int:
    """Delete temp files an earlier, killed write of `name` left in `folder` (their writer's process
    is gone); a temp file of a live writer is left alone. Returns how many went."""
    gone = 0
    prefix = _temp_prefix(name)
    try:
        leftovers = [p for p in Path(folder).iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return 0
    for p in leftovers:
        pid = p.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            p.unlink(missing_ok=True)
            gone += 1
    return gone


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def atomic_path(path: Path):
    """Yield a temp path in the destination folder; rename it onto `path` only if the block succeeds.
    The temp name carries the writer's pid (so a later write can tell a killed writer's leftovers
    from a live one's) and a random part (so it cannot be guessed)."""
    path = Path(path)
    if path.is_dir():
        raise AfroadvError(f"output {path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AfroadvError(f"cannot create folder {path.parent}: {e.strerror}") from None
    remove_stale_temps(path.parent, path.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(path.name)}{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise AfroadvError(f"cannot write in {path.parent}: {e.strerror}") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual permissions
    try:
        try:
            yield Path(tmp)
            os.replace(tmp, path)
        except OSError as e:  # a full disk, a folder made read-only meanwhile
            raise AfroadvError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def dumps_record(record: dict) -> str:
    return json.dumps(finite_json(record), ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def dumps_json(obj, **kwargs) -> str:
    """Strict JSON (no bare NaN / Infinity, which strict parsers reject): non-finite numbers become null."""
    return json.dumps(finite_json(obj), ensure_ascii=False, allow_nan=False, **kwargs)


def finite_json(obj):
    """`obj` with every NaN or infinity replaced by None; a dict that had one under key k also gets
    `k_note` saying why the value is missing."""
    value, _ = _finite(obj)
    return value


def _finite(obj):
    if isinstance(obj, float):
        return (obj, False) if math.isfinite(obj) else (None, True)
    if isinstance(obj, dict):
        out, notes = {}, {}
        for k, v in obj.items():
            new, bad = _finite(v)
            out[k] = new
            if bad and f"{k}_note" not in obj:
                notes[f"{k}_note"] = "not a finite number (NaN or infinity: e.g. a correlation of constant scores)"
        out.update(notes)
        return out, False
    if isinstance(obj, (list, tuple)):
        pairs = [_finite(v) for v in obj]
        return [v for v, _ in pairs], any(b for _, b in pairs)
    return obj, False


def write_records(path: Path, records: list[dict], columns: list[str]) -> None:
    """JSONL (one object per line, fixed key order) or Parquet, chosen by suffix."""
    path = Path(path)
    suffix = _records_suffix(path)
    with atomic_path(path) as tmp:
        _write_records_to(tmp, records, columns, suffix)


def _records_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise AfroadvError(f"output must end in .jsonl or .parquet: {path}")
    return suffix


def _write_records_to(tmp: Path, records: list[dict], columns: list[str], suffix: str) -> None:
    if suffix == ".jsonl":
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for r in records:
                f.write(dumps_record({c: r[c] for c in columns}) + "\n")
    else:
        import pyarrow.parquet as pq

        from afroadv.data.sets import arrow_table

        pq.write_table(arrow_table(records, columns), tmp)


def check_set_destination(out: Path) -> Path:
    """Before any work: a set can be written to `out` (.jsonl or .parquet) and its manifest beside it."""
    out = Path(out)
    check_destination(out, "output")
    _records_suffix(out)
    check_destination(manifest_path(out), "manifest")
    return out


def write_set_files(out: Path, records: list[dict], columns: list[str], manifest: dict) -> Path:
    """A set and its manifest as one unit: both are written to temp files first; the old manifest
    goes before the new data takes its name, and the new manifest (carrying the data's sha256)
    comes last. A kill at any point leaves either the old pair, or data with no manifest, or data
    whose sha256 its manifest does not claim — never data with another run's provenance, since
    every reader checks the hash (read_set_manifest)."""
    from afroadv.resources import sha256_file

    out = Path(out)
    suffix = _records_suffix(out)
    mpath = manifest_path(out)
    with atomic_path(mpath) as tman:
        with atomic_path(out) as tdata:
            _write_records_to(tdata, records, columns, suffix)
            body = dict(manifest, output={"file": out.name, "sha256": sha256_file(tdata)})
            tman.write_text(dumps_json(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            mpath.unlink(missing_ok=True)
        # (the data is in place; leaving this block puts the manifest beside it)
    return mpath


def read_set_manifest(set_path: Path) -> dict | None:
    """The manifest beside a set, or None when there is none; an error when it is not JSON, or when
    it names an output sha256 the file does not have (an interrupted write, or an edited file)."""
    from afroadv.resources import sha256_file

    set_path = Path(set_path)
    path = manifest_path(set_path)
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AfroadvError(f"{path}: not valid JSON") from None
    if not isinstance(manifest, dict):
        raise AfroadvError(f"{path}: not an afroadv manifest (not a JSON object)")
    output = manifest.get("output")
    claimed = output.get("sha256") if isinstance(output, dict) else None
    if claimed and claimed != sha256_file(set_path):
        raise AfroadvError(f"{set_path} does not match its manifest {path.name} (sha256 differs: an interrupted "
                           "write or an edited file); regenerate it, or delete the manifest to use it without provenance")
    return manifest


def manifest_path(out: Path) -> Path:
    out = Path(out)
    return out.with_name(out.name.rsplit(".", 1)[0] + ".manifest.json")


def write_manifest(out: Path, manifest: dict) -> Path:
    path = manifest_path(out)
    write_text_atomic(path, dumps_json(manifest, indent=2, sort_keys=True) + "\n")
    return path
