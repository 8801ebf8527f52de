import os
import subprocess
import sys
from pathlib import Path

import pytest

# Tests never touch the network: hub libraries run offline, caches live in a temp folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from afroadv.resources import shared_data_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="needs ../shared/data beside the checkout (not in a user's clone)")


def run_cli(*args, cwd=None, env=None):
    """Run the real console entry point in a subprocess (exit codes, stderr, imports)."""
    return subprocess.run(
        [sys.executable, "-m", "afroadv.cli", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})},
    )  # fmt: skip


def run_cli_here(*args, env=None):
    """`run_cli` in this process (no interpreter start: 0.05 s instead of 0.4 s) for the many-case
    matrices; the real entry point in a subprocess stays covered by run_cli's own tests."""
    import contextlib
    import io

    from afroadv.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update({k: str(v) for k, v in (env or {}).items()})
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(map(str, args)))
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["afroadv", *map(str, args)], code, out.getvalue(), err.getvalue())


@pytest.fixture()
def cache(tmp_path):
    """An embedding cache of its own for one test."""
    from afroadv.models import EmbeddingCache

    c = EmbeddingCache(tmp_path / "emb.sqlite3")
    yield c
    c.close()


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """A private AFROADV_CACHE (models, embeddings) for one test module, restored afterwards."""
    root = tmp_path_factory.mktemp("afroadv-cache")
    old = os.environ.get("AFROADV_CACHE")
    os.environ["AFROADV_CACHE"] = str(root)
    yield root
    if old is None:
        os.environ.pop("AFROADV_CACHE", None)
    else:
        os.environ["AFROADV_CACHE"] = old


def load_any(name: str):
    """A shipped recipe, with code-switching allowed on lexicons whose precision is not (yet)
    measured: tests of mechanics need every language, not only the defaults."""
    from dataclasses import replace

    from afroadv.perturb import load_recipe

    rec = load_recipe(name)
    steps = tuple(replace(s, params={**s.params, "min_lexicon_precision": 0}) if s.kind == "codeswitch" else s
                  for s in rec.steps)  # fmt: skip
    return replace(rec, steps=steps)
