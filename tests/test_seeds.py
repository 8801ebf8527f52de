"""Pooled seeds (`--seeds 0,1,2`): the bootstrap over pairs × draws (metrics.py) and its single-draw
special case; evaluate's pooled rows against separate `--seed` runs; option errors; sweep resume;
check's gate on pooled values and its refusal of other seed lists; report reading per-seed drops."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli_here

from afroadv.metrics import accuracy_drop_ci, invariance_ci, mean_ci, metric_ci, paired_drop_ci

pytest.importorskip("torch")

LIMIT, BOOT = 20, 100


def _width(ci):
    return ci[1] - ci[0]


def test_pooled_ci_is_at_least_as_wide_as_each_seeds_when_the_draws_disagree():
    r = np.random.default_rng(0)
    gold = r.random(120)
    clean = gold + r.normal(0, 0.1, 120)
    # three draws of a perturbation that disagree: one barely moves, one wrecks the ranking, one between
    draws = np.stack([clean + r.normal(0, s, 120) for s in (0.02, 0.6, 0.25)])
    singles = [paired_drop_ci(gold, clean, p, n_boot=500, seed=0) for p in draws]
    drop, ci = paired_drop_ci(gold, clean, draws, n_boot=500, seed=0)
    assert drop == pytest.approx(np.mean([d for d, _ in singles]))  # the pooled drop: the mean over draws
    assert max(d for d, _ in singles) - min(d for d, _ in singles) > 20  # the draws really disagree
    assert all(_width(ci) >= _width(c) for _, c in singles), (ci, [c for _, c in singles])
    assert ci[0] <= drop <= ci[1]
    # retrieval hits: one draw loses nothing, another half the queries
    c = np.ones(80)
    hits = np.stack([np.ones(80), np.r_[np.ones(40), np.zeros(40)], np.r_[np.ones(60), np.zeros(20)]])
    singles = [accuracy_drop_ci(c, h, n_boot=500, seed=0) for h in hits]
    drop, ci = accuracy_drop_ci(c, hits, n_boot=500, seed=0)
    assert drop == pytest.approx(25.0) and all(_width(ci) >= _width(s) for _, s in singles)


def test_one_draw_is_the_pairs_only_ci_exactly():
    """The single-seed CI is the pooled bootstrap's special case: one draw (as a row) gives the same replicates."""
    r = np.random.default_rng(1)
    gold = r.random(60)
    clean, pert = gold + r.normal(0, 0.2, 60), gold + r.normal(0, 0.4, 60)
    for metric in ("spearman", "pearson"):
        assert paired_drop_ci(gold, clean, pert, metric, 200, 7) == paired_drop_ci(gold, clean, pert[None], metric, 200, 7)
        assert metric_ci(gold, pert, metric, 200, 7) == metric_ci(gold, pert[None], metric, 200, 7)
    hits = (r.random(60) > 0.3).astype(float)
    assert accuracy_drop_ci(np.ones(60), hits, 200, 7) == accuracy_drop_ci(np.ones(60), hits[None], 200, 7)
    assert mean_ci(hits, 200, 7) == mean_ci(hits[None], 200, 7)
    self_cos, rand_cos = 0.8 + 0.1 * r.random(60), 0.3 * r.random(60)
    assert invariance_ci(self_cos, rand_cos, 200, 7) == invariance_ci(self_cos[None], rand_cos, 200, 7)
    # identical draws: resampling them changes nothing
    drop, ci = paired_drop_ci(gold, clean, np.stack([pert, pert, pert]), n_boot=200, seed=7)
    one_drop, one_ci = paired_drop_ci(gold, clean, pert, n_boot=200, seed=7)
    assert drop == pytest.approx(one_drop) and ci == pytest.approx(one_ci)
    # a directional draw that did not change a pair (NaN) leaves it out of that draw's rate
    passed = np.array([[1.0, 0.0, 1.0, np.nan], [1.0, 1.0, np.nan, 0.0]])
    lo, hi = mean_ci(passed, 200, 7)
    assert 0 <= lo <= hi <= 1


@pytest.fixture(scope="module")
def cache_env(module_cache):
    return {"AFROADV_CACHE": str(module_cache)}


_RUNS: dict = {}


def _run(seed: int = 0, seeds: list[int] | None = None) -> dict:
    """evaluate's document for tiny-xlmr on hau charnoise + numswap (a fresh copy of a run made once per module)."""
    from afroadv.api import evaluate

    key = (seed, None if seeds is None else tuple(seeds))
    if key not in _RUNS:
        _RUNS[key] = json.dumps(evaluate("tiny-xlmr", "hau", ["charnoise", "numswap"], limit=LIMIT, bootstrap=BOOT,
                                         seed=seed, seeds=seeds))
    return json.loads(_RUNS[key])


IDENTITY = ("recipe", "expect", "validation", "dir_margin", "retrieval_k", "n_pairs")


def test_pooled_rows_keep_each_seeds_own_row(cache_env):
    pooled = _run(seeds=[0, 1])
    assert pooled["manifest"]["seeds"] == [0, 1] and "seed" not in pooled["manifest"]
    assert pooled["manifest"]["bootstrap"]["pooled"] == "pairs x draws"
    assert all(s["seeds"] == [0, 1] and "seed" not in s for s in pooled["manifest"]["sets"])
    separate = {sd: {r["recipe"]: r for r in _run(seed=sd)["results"]} for sd in (0, 1)}
    clean = next(r for r in pooled["results"] if r["recipe"] == "clean")
    base = set(clean) - {"recipe", "n", "spearman", "pearson", "spearman_ci"}  # model and set identity
    for row in pooled["results"]:
        if row["recipe"] == "clean":  # the clean pairs are shared: the row is seed 0's (the pooled bootstrap's stream)
            assert row == separate[0]["clean"]
            continue
        assert row["seeds"] == [0, 1] and list(row["per_seed"]) == ["0", "1"]
        for sd in (0, 1):  # each seed's values are the row `--seed sd` writes, less the identity
            alone = separate[sd][row["recipe"]]
            assert row["per_seed"][str(sd)] == {k: v for k, v in alone.items() if k not in base and k not in IDENTITY}
        if row["recipe"] == "charnoise":
            assert row["drop"] == pytest.approx(np.mean([separate[sd]["charnoise"]["drop"] for sd in (0, 1)]), abs=1e-3)
            assert row["drop_ci"][0] <= row["drop"] <= row["drop_ci"][1]


def test_one_seed_pooled_equals_the_single_seed_row_and_runs_are_deterministic(tmp_path, cache_env):
    from afroadv.sweep import strip_timing

    one = {r["recipe"]: r for r in _run(seeds=[1])["results"]}
    single = {r["recipe"]: r for r in _run(seed=1)["results"]}
    for recipe, row in one.items():
        for key, value in single[recipe].items():
            assert row[key] == value, (recipe, key)  # same values, same CIs: the special case
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--limit", LIMIT,
                         "--bootstrap", BOOT, "--seeds", "0,2", "--out", out, env=cache_env)
        assert r.returncode == 0, r.stderr
    assert "pooled over seeds 0,2" in r.stdout
    da, db = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    assert json.dumps(strip_timing(da)) == json.dumps(strip_timing(db))  # only the timings differ
    assert a.read_text(encoding="utf-8").replace("\n", "").count('"per_seed"') == 1


def test_bitext_directional_and_invariance_rows_pool_too(cache_env):
    from afroadv.api import evaluate

    doc = evaluate("tiny-xlmr", "sw", ["keyboard", "wordswap"], limit=LIMIT, bootstrap=BOOT, seeds=[0, 1])
    doc["results"] += evaluate("tiny-xlmr", "hau", ["charnoise"], dataset="tweets", limit=LIMIT, bootstrap=BOOT,
                               seeds=[0, 1])["results"]
    rows = {r["recipe"] + "/" + r["task"]: r for r in doc["results"]}
    mean = lambda row, key: np.mean([v[key] for v in row["per_seed"].values()])  # noqa: E731
    keyboard, wordswap, inv = rows["keyboard/bitext"], rows["wordswap/bitext"], rows["charnoise/invariance"]
    assert keyboard["drop"] == pytest.approx(mean(keyboard, "drop"), abs=1e-3) and keyboard["accuracy_ci"] is not None
    # a directional set: the pairs any draw changed, each draw's rate over the pairs it changed
    assert wordswap["n"] >= max(v["n"] for v in wordswap["per_seed"].values())
    assert wordswap["directional_pass_rate"] == pytest.approx(mean(wordswap, "directional_pass_rate"), abs=1e-3)
    lo, hi = wordswap["directional_pass_rate_ci"]
    assert 0 <= lo <= wordswap["directional_pass_rate"] <= hi <= 1
    assert inv["invariance"] == pytest.approx(mean(inv, "invariance"), abs=1e-3)
    assert inv["invariance_ci"] != inv["per_seed"]["0"]["invariance_ci"]  # pooled over both draws
    assert inv["control"]["invariance"] == pytest.approx(np.mean([v["control"]["invariance"] for v in inv["per_seed"].values()]),
                                                         abs=1e-3)


@pytest.mark.parametrize("args, message", [
    (["--seed", "1", "--seeds", "0,1"], "give --seed or --seeds, not both"),
    (["--seeds", ""], "must list at least one seed"),
    (["--seeds", "0,-1"], "--seeds must be between 0"),
    (["--seeds", "0,1,0"], "lists seed 0 twice"),
    (["--seeds", "0,x"], "--seeds must be a whole number"),
    (["--seeds", "1.5"], "--seeds must be a whole number"),
])
def test_seed_option_errors_exit_2_with_one_line(tmp_path, args, message):
    out = tmp_path / "r.json"
    for command in (["evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--out", out],
                    ["sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "charnoise", "--out", tmp_path / "sw"]):
        r = run_cli_here(*command, *args)
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists() and not (tmp_path / "sw").exists()


def test_api_refuses_seeds_with_files_or_with_seed(tmp_path):
    from afroadv.api import evaluate
    from afroadv.errors import AfroadvError
    from afroadv.options import check_seeds

    assert check_seeds("3,0,1") == check_seeds((1, 3, 0)) == [0, 1, 3]  # a set of seeds: the order given does not matter

    with pytest.raises(AfroadvError, match="seed= or seeds="):
        evaluate("tiny-xlmr", "hau", "charnoise", seed=1, seeds=[0, 1])
    with pytest.raises(AfroadvError, match="a sets= file was drawn under its own seed"):
        evaluate("tiny-xlmr", sets=[tmp_path / "x.jsonl"], seeds=[0, 1])


def test_sweep_cells_pool_seeds_and_resume_only_the_same_seeds(tmp_path, cache_env):
    from afroadv.sweep import plan_cells, run_sweep

    out = tmp_path / "sweep"
    cells = lambda seeds: plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], limit=LIMIT, bootstrap=BOOT, seeds=seeds)  # noqa: E731
    assert cells([0, 1])[0].spec()["seeds"] == [0, 1] and "seed" not in cells([0, 1])[0].spec()
    s = run_sweep(cells([0, 1]), out, quiet=True, report=False)
    assert (s.ran, s.skipped) == (1, 0)
    merged = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert merged["manifest"]["seeds"] == [0, 1] and merged["manifest"]["sweep"]["seeds"] == [0, 1]
    assert next(r for r in merged["results"] if r["recipe"] == "charnoise")["seeds"] == [0, 1]
    assert (run_sweep(cells([0, 1]), out, quiet=True, report=False).ran, 1) == (0, 1)  # finished: skipped
    assert run_sweep(cells([0, 2]), out, quiet=True, report=False).ran == 1  # other seeds: run again
    assert run_sweep(plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], limit=LIMIT, bootstrap=BOOT, seed=0), out,
                     quiet=True, report=False).ran == 1  # --seed 0 alone is another cell than --seeds 0,...


def _doc_file(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_check_gates_on_pooled_values_and_refuses_other_seed_lists(tmp_path, cache_env, capsys):
    from afroadv.check import check

    pooled = _run(seeds=[0, 1])
    base = _doc_file(tmp_path / "base.json", pooled)
    res = json.loads(json.dumps(pooled))
    row = next(r for r in res["results"] if r["recipe"] == "charnoise")
    for one in row["per_seed"].values():  # per-seed values are not what check gates on
        one["drop"], one["drop_ci"] = one["drop"] + 50, [one["drop"] + 45, one["drop"] + 55]
    assert check(_doc_file(tmp_path / "same.json", res), base).passed
    row["drop"], row["drop_ci"] = row["drop"] + 9, [row["drop"] + 7, row["drop"] + 11]  # the pooled drop worsens
    result = check(_doc_file(tmp_path / "worse.json", res), base)
    assert [c.recipe for c in result.failed] == ["charnoise"]
    for other in (_run(seed=0), _run(seeds=[0, 2])):
        r = run_cli_here("check", _doc_file(tmp_path / "other.json", other), "--baseline", base)
        assert r.returncode == 2 and "seeds differ" in r.stderr and "--seeds 0,1" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


def test_report_loads_pooled_files_with_their_per_seed_drops(tmp_path, cache_env):
    from afroadv.report import build_report

    path = _doc_file(tmp_path / "pooled.json", _run(seeds=[0, 1]))
    written = build_report([path], tmp_path / "rep", ["md"])
    text = written["markdown"].read_text(encoding="utf-8")
    assert "## Across seeds" in text and "| seed 0 | seed 1 |" in text
