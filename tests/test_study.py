"""`afroadv study` end to end in its smoke configuration: the tiny XLM-R trained two ways for two
steps, every trained model and the untrained one evaluated on a slice of SemRel hau, pooled over
two seeds; resumable, refusing another plan's folder, and on the Dask backend (127.0.0.1 only)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path

import pytest
from conftest import run_cli

from afroadv.errors import AfroadvError
from afroadv.study import BASELINE, plan_study

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

UNLABELED = ["Gwamnatin jihar Kano ta ce za ta gina sababbin makarantu a wannan shekara.",
             "Manoma sun koka kan tsadar taki da kuma rashin ruwan sama a arewacin kasar.",
             "Yaran sun je kasuwa domin sayen abinci da kayan makaranta ranar Litinin.",
             "Likitoci sun yi gargadi game da yaduwar cutar zazzabin cizon sauro a garuruwa."]


@pytest.fixture(scope="module", autouse=True)
def _cache_dir(module_cache):
    return module_cache


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    from test_train import _write_stsb

    root = tmp_path_factory.mktemp("study-inputs")
    (root / "hau.txt").write_text("\n".join(UNLABELED) + "\n", encoding="utf-8")
    return {"data": _write_stsb(root / "sts-train.csv"), "unlabeled": root / "hau.txt"}


def _args(inputs: dict, out: Path, *extra) -> list:
    return ["study", "--models", "tiny-xlmr", "--methods", "plain,consistency", "--langs", "hau",
            "--recipes", "charnoise", "--seeds", "0,1", "--data", inputs["data"], "--max-steps", "2",
            "--batch-size", "4", "--max-seq-length", "32", "--unlabeled", f"hau:{inputs['unlabeled']}",
            "--train-recipes", "charnoise", "--eval-limit", "40", "--bootstrap", "200", "--out", out, *extra]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, inputs) -> Path:
    out = tmp_path_factory.mktemp("study") / "s"
    r = run_cli(*_args(inputs, out))
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def test_study_trains_evaluates_and_reports(smoke):
    for method in ("plain", "consistency"):
        info = json.loads((smoke / "models" / f"tiny-xlmr-{method}" / "afroadv_train.json").read_text(encoding="utf-8"))
        assert info["options"]["method"] == method and info["training"]["global_steps"] == 2
    cons = json.loads((smoke / "models" / "tiny-xlmr-consistency" / "afroadv_train.json").read_text(encoding="utf-8"))
    assert cons["consistency"]["weight"] == 30.0 and cons["consistency"]["draws"]["langs"] == ["hau"]
    doc = json.loads((smoke / "study.json").read_text(encoding="utf-8"))
    assert doc["plan"]["seeds"] == [0, 1] and doc["plan"]["recipes"] == {"hau": ["charnoise"]}
    got = {(r["method"], r["recipe"]) for r in doc["rows"]}
    assert got == {(m, r) for m in (BASELINE, "plain", "consistency") for r in ("clean", "charnoise")}
    for r in doc["rows"]:
        assert r["model"] == "tiny-xlmr" and r["params"] and r["n"] == 40
        if r["recipe"] == "charnoise":
            assert r["drop_ci"][0] <= r["drop"] <= r["drop_ci"][1] and set(r["per_seed_drop"]) == {"0", "1"}
    md = (smoke / "study.md").read_text(encoding="utf-8")
    assert "| tiny-xlmr |" in md and "| consistency |" in md and "drop: charnoise" in md
    assert (smoke / "drop_vs_size.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_study_rerun_skips_finished_cells(smoke, inputs):
    before = (smoke / "study.json").read_text(encoding="utf-8")
    r = run_cli(*_args(inputs, smoke))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 finished earlier, 0 to run" in r.stderr and "3 finished earlier (skipped), 0 to run" in r.stderr
    assert (smoke / "study.json").read_text(encoding="utf-8") == before


def test_study_refuses_another_plans_folder(smoke, inputs):
    r = run_cli(*_args(inputs, smoke, "--lr", "1e-4"))
    assert r.returncode == 2 and "trained with other options (lr)" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_study_on_dask(tmp_path, inputs):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "d"
    args = _args(inputs, out, "--backend", "dask", "--workers", "2", "--no-baseline")
    args[args.index("plain,consistency")] = "plain"
    for option in ("--unlabeled", "--train-recipes"):  # consistency's own: refused without it
        at = args.index(option)
        del args[at:at + 2]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "LocalCluster with 2 worker process(es) at tcp://127.0.0.1:" in r.stderr
    doc = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert {r["method"] for r in doc["rows"]} == {"plain"}


@pytest.mark.parametrize("kw,message", [
    ({"methods": ["adversarial"]}, "unknown method 'adversarial'"),
    ({"recipes": ["translit"]}, "supports none of --langs hau"),
    ({"models": []}, "no model given"),
    ({"seeds": []}, "--seeds"),
    ({"lr": float("nan")}, "--lr"),
])
def test_plan_errors(kw, message):
    base = {"models": ["tiny-xlmr"], "methods": ["plain"], "langs": ["hau"], "recipes": ["charnoise"], "seeds": [0]}
    base.update(kw)
    with pytest.raises(AfroadvError, match=message):
        plan_study(base.pop("models"), base.pop("methods"), base.pop("langs"), base.pop("recipes"), base.pop("seeds"), **base)


def test_all_recipes_are_the_meaning_keeping_ones():
    plan = plan_study(["tiny-xlmr"], ["plain"], ["hau", "amh"], ["all"], [0])
    assert "numswap" not in plan.recipes["hau"] and "charnoise" in plan.recipes["hau"]
    assert "translit" in plan.recipes["amh"] and "translit" not in plan.recipes["hau"]


def test_a_folder_trained_beforehand_must_match_the_plan(tmp_path):
    from afroadv.study import _check_folder, _finished

    plan = plan_study(["tiny-xlmr"], ["plain", "consistency"], ["hau"], ["charnoise"], [0], max_steps=2)
    cell = next(c for c in plan.train_cells() if c.method == "consistency")
    folder = tmp_path / "s" / "models" / cell.name
    folder.mkdir(parents=True)
    assert not _finished(cell, folder)
    options = cell.train_options(folder).run_config()
    assert options["langs"] == ["hau"] and options["consistency_weight"] == 30.0
    (folder / "afroadv_train.json").write_text(json.dumps({"options": options}), encoding="utf-8")
    assert _finished(cell, folder)
    (folder / "afroadv_train.json").write_text(json.dumps({"options": {**options, "lr": 1e-3}}), encoding="utf-8")
    with pytest.raises(AfroadvError, match=r"trained with other options than this study's \(lr\)"):
        _finished(cell, folder)
    _check_folder(plan, tmp_path / "s")  # models/ alone: cells trained beforehand are welcome
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(AfroadvError, match="not empty"):
        _check_folder(plan, tmp_path / "t")


@pytest.mark.parametrize("kw,message", [
    ({"methods": ["plain", "consistency"], "train_recipes": ["translit"]}, "translit"),
    ({"methods": ["plain", "consistency"], "unlabeled": ["hau:/nonexistent/x.txt"]}, "not a file"),
    ({"methods": ["plain"], "unlabeled": ["tweets"]}, "only apply to --methods consistency"),
    ({"methods": ["plain"], "consistency_target": "teacher"}, "--consistency-target"),
])
def test_plan_checks_every_cells_inputs_before_any_training(kw, message):
    methods = kw.pop("methods")
    with pytest.raises(AfroadvError, match=message):
        plan_study(["tiny-xlmr"], methods, ["hau"], ["charnoise"], [0], **kw)
