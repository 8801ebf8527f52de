"""Where the shipped data and recipes live: beside the package in a wheel, at the repo root in a clone."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


@lru_cache(maxsize=None)
def data_dir() -> Path:
    env = os.environ.get("AFROADV_DATA")
    if env:
        return Path(env)
    return _first_existing(_PKG / "_data", _PKG.parents[1] / "data")


@lru_cache(maxsize=None)
def recipes_dir() -> Path:
    env = os.environ.get("AFROADV_RECIPES")
    if env:
        return Path(env)
    return _first_existing(_PKG / "_recipes", _PKG.parents[1] / "recipes")


def shared_data_dir() -> Path | None:
    """`../shared/data` beside a development checkout (absent on users' clones)."""
    env = os.environ.get("AFROADV_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(_PKG.parents[2] / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def cache_root() -> Path:
    """`$AFROADV_CACHE`, else `$XDG_CACHE_HOME/afroadv`, else `~/.cache/afroadv` (read on every call,
    so tests can point it at a temporary folder)."""
    env = os.environ.get("AFROADV_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "afroadv"
