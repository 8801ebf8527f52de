"""`afroadv sweep` on the tiny random model: one file per model × language cell, merged results and
report, resume (finished cells skipped, torn or stale ones re-run), the Dask backend on a loopback
LocalCluster with 2 workers giving the same merged results as the local backend, GPU tagging."""

from __future__ import annotations

import json
import os

import pytest
from conftest import run_cli

from afroadv.check import check
from afroadv.errors import AfroadvError
from afroadv.sweep import plan_cells, run_sweep, strip_timing

pytest.importorskip("torch")

GRID = {"models": ["tiny-xlmr"], "langs": ["hau", "kin"], "recipes": ["charnoise", "codeswitch"]}
OPTS = {"limit": 20, "bootstrap": 200, "seed": 0}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AFROADV_CACHE", str(tmp_path / "cache"))  # dask workers inherit it at spawn
    return {"AFROADV_CACHE": str(tmp_path / "cache")}


def _cells(**kw):
    return plan_cells(GRID["models"], GRID["langs"], GRID["recipes"], **{**OPTS, **kw})


def test_plan_validates_the_grid_and_names_cells():
    cells = plan_cells(["tiny-xlmr", "tiny-xlmr"], ["ha", "hau", "rw"], ["all"], limit=5)
    assert [(c.model, c.lang) for c in cells] == [("tiny-xlmr", "hau"), ("tiny-xlmr", "kin")]  # aliases folded
    assert "charnoise" in cells[0].recipes and not cells[0].gpu
    assert [c.filename for c in cells] == ["tiny-xlmr__hau.json", "tiny-xlmr__kin.json"]
    odd = plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], device="cuda:0")[0]
    assert odd.gpu  # --device cuda makes a GPU cell
    for kw, reason in [({"recipes": ["nope"]}, "unknown recipe"), ({"langs": ["xx"]}, "unknown language"),
                       ({"models": ["no-such-model"]}, "no-such-model"), ({"recipes": []}, "no recipe")]:
        with pytest.raises(AfroadvError, match=reason):
            plan_cells(**{**GRID, **kw})


def test_sweep_writes_cells_merged_results_report_and_resumes(tmp_path, cache):
    out = tmp_path / "sweep"
    s = run_sweep(_cells(), out, quiet=True)
    assert (s.cells, s.ran, s.skipped) == (2, 2, 0)
    cell_files = sorted((out / "cells").iterdir())
    assert [p.name for p in cell_files] == ["tiny-xlmr__hau.json", "tiny-xlmr__kin.json"]
    merged = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [(r["lang"], r["recipe"]) for r in merged["results"]] == [
        (lang, rc) for lang in ("hau", "kin") for rc in ("clean", "charnoise", "codeswitch")]
    assert all(r["n"] == 20 for r in merged["results"]) and merged["manifest"]["seed"] == 0
    assert (out / "report" / "report.md").is_file() and (out / "report" / "report.html").is_file()
    assert check(out / "results.json", out / "results.json").passed  # the merged file is a valid check input

    stamps = {p.name: p.stat().st_mtime_ns for p in cell_files}
    s = run_sweep(_cells(), out, quiet=True, report=False)
    assert (s.ran, s.skipped) == (0, 2)
    assert {p.name: p.stat().st_mtime_ns for p in cell_files} == stamps  # nothing rewritten

    (out / "cells" / "tiny-xlmr__kin.json").write_text('{"kind": "evaluation-results", "resu', encoding="utf-8")  # torn
    s = run_sweep(_cells(), out, quiet=True, report=False)
    assert (s.ran, s.skipped) == (1, 1)
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["results"] == merged["results"]

    s = run_sweep(_cells(limit=15), out, quiet=True, report=False)  # changed parameters: every cell is stale
    assert (s.ran, s.skipped) == (2, 0)

    # the CLI: a finished grid is all skipped; exit 2 with one line on a bad grid
    r = run_cli("sweep", "--models", "tiny-xlmr", "--langs", "hau,kin", "--recipes", "charnoise,codeswitch", "--limit", "15",
                "--bootstrap", "200", "--out", out, "--no-report", env=cache)
    assert r.returncode == 0 and "0 run, 2 skipped" in r.stdout, r.stderr
    r = run_cli("sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "charnoise", "--out", out,
                "--backend", "ray", env=cache)
    assert r.returncode == 2 and "unknown backend 'ray'" in r.stderr


def test_dask_local_cluster_matches_local_backend(tmp_path, cache, monkeypatch):
    """2 worker processes on 127.0.0.1; their own embedding cache, so they really compute."""
    import afroadv.sweep as sweep_mod

    local = run_sweep(_cells(), tmp_path / "local", quiet=True, report=False)
    monkeypatch.setenv("AFROADV_CACHE", str(tmp_path / "cache-dask"))
    seen = {}
    make = sweep_mod.local_cluster

    def spy(workers, gpus=0):
        cluster = make(workers, gpus)
        cluster.wait_for_workers(workers, timeout=120)
        info = cluster.scheduler_info["workers"]
        seen["addresses"] = [cluster.scheduler_address, *info, *(w["nanny"] for w in info.values())]
        seen["http"] = cluster.scheduler.http_server.address
        return cluster

    monkeypatch.setattr(sweep_mod, "local_cluster", spy)
    dask = run_sweep(_cells(), tmp_path / "dask", backend="dask", workers=2, quiet=True, report=False)
    assert dask.ran == 2 and len(seen["addresses"]) == 5
    assert all(a.startswith("tcp://127.0.0.1:") for a in seen["addresses"]) and seen["http"] == "127.0.0.1"
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (local.results, dask.results))
    assert a["results"] == b["results"]
    assert strip_timing(a) == strip_timing(b)
    assert os.listdir(tmp_path / "cache-dask")  # the workers used (and filled) their own cache


def test_gpu_cells_need_a_gpu_worker(tmp_path, cache):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    cells = plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], limit=5, device="cuda")
    with pytest.raises(AfroadvError, match="need a GPU"):
        run_sweep(cells, tmp_path / "gpu", backend="dask", workers=1, quiet=True)
    with pytest.raises(AfroadvError, match="--scheduler needs --backend dask"):
        run_sweep(cells, tmp_path / "gpu", scheduler="tcp://127.0.0.1:1", quiet=True)
