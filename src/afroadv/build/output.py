"""Where a build writes: a data folder, one file per language, and a MANIFEST.json that says how
each file was made (the origin and licence every shipped data file must carry)."""

from __future__ import annotations

import json
from pathlib import Path

from afroadv.data.writers import write_text_atomic
from afroadv.resources import data_dir, sha256_file


def out_folder(name: str, out_dir: Path | None) -> Path:
    out = Path(out_dir) if out_dir else data_dir() / name
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_language_file(out: Path, code: str, text: str) -> tuple[Path, str]:
    """data/<folder>/<code>.tsv, atomically; returns the path and its sha256."""
    path = out / f"{code}.tsv"
    write_text_atomic(path, text)
    return path, sha256_file(path)


def write_build_manifest(out: Path, description: str, files: list[dict]) -> dict:
    manifest = {"description": description, "files": files}
    write_text_atomic(out / "MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest
