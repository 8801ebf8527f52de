"""Evaluation on tiny random models (real XLM-R tokenizer): schema, metrics, drops, caching, errors;
e5-small (integration) against an independent sentence-transformers + scipy computation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from afroadv.metrics import accuracy_drop_ci, paired_drop_ci, pearson, spearman
from conftest import run_cli, run_cli_here

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def cache_env(module_cache):
    return {"AFROADV_CACHE": str(module_cache)}


def test_metrics_agree_with_scipy_and_ci_brackets_the_drop():
    r = np.random.default_rng(1)
    gold = r.random(150)
    clean, pert = gold + r.normal(0, 0.2, 150), gold + r.normal(0, 0.5, 150)
    assert spearman(gold, clean) == pytest.approx(100 * spearmanr(gold, clean).statistic)
    assert pearson(gold, clean) == pytest.approx(100 * pearsonr(gold, clean).statistic)
    drop, (lo, hi) = paired_drop_ci(gold, clean, pert)
    assert drop > 0 and lo <= drop <= hi and lo > 0
    drop, (lo, hi) = paired_drop_ci(gold, clean, clean)
    assert drop == 0 and lo == hi == 0  # same predictions: the paired CI collapses
    d, (lo, hi) = accuracy_drop_ci(np.ones(50), np.r_[np.ones(25), np.zeros(25)])
    assert d == 50 and lo <= 50 <= hi


def _results(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["kind"] == "evaluation-results" and "manifest" in doc
    return doc


def test_evaluate_sts_bitext_and_invariance_on_tiny_models(tmp_path, cache_env):
    out = tmp_path / "r.json"
    r = run_cli_here("evaluate", "--model", "tiny-xlmr,tiny-xlmr-xl", "--lang", "hau", "--recipe", "charnoise,codeswitch",
                "--limit", "30", "--bootstrap", "200", "--out", out, env=cache_env)
    assert r.returncode == 0, r.stderr
    rows = _results(out)["results"]
    assert {(x["model"], x["recipe"]) for x in rows} == {
        (m, rc) for m in ("tiny-xlmr", "tiny-xlmr-xl") for rc in ("clean", "charnoise", "codeswitch")}
    for x in rows:
        assert x["task"] == "sts" and x["n"] == 30 and x["lang"] == "hau"
        assert -100 <= x["spearman"] <= 100 and "pearson" in x
        if x["recipe"] != "clean":
            lo, hi = x["drop_ci"]
            assert lo <= x["drop"] <= hi
            assert x["drop"] == pytest.approx(x["clean_spearman"] - x["spearman"], abs=1e-3)
    clean = {x["model"]: x["spearman"] for x in rows if x["recipe"] == "clean"}
    assert clean["tiny-xlmr"] != clean["tiny-xlmr-xl"]  # two different architectures really ran

    out = tmp_path / "b.json"
    r = run_cli("evaluate", "--model", "tiny-xlmr", "--lang", "sw", "--recipe", "keyboard", "--limit", "25",
                "--bootstrap", "200", "--threads", "1", "--out", out, env=cache_env)
    assert r.returncode == 0, r.stderr
    rows = _results(out)["results"]
    assert [x["recipe"] for x in rows] == ["clean", "keyboard"]
    assert all(x["task"] == "bitext" and 0 <= x["accuracy"] <= 100 for x in rows)

    out = tmp_path / "i.json"
    r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--dataset", "tweets", "--recipe", "charnoise",
                "--limit", "25", "--bootstrap", "200", "--out", out, env=cache_env)
    assert r.returncode == 0, r.stderr
    (row,) = _results(out)["results"]
    assert row["task"] == "invariance" and row["invariance"] == pytest.approx(
        100 * (row["mean_cos_self"] - row["mean_cos_random"]) / (1 - row["mean_cos_random"]), rel=0.01)  # from the rounded means
    assert row["control"]["recipe"] == "wordswap" and 0 <= row["retrieval_at1"] <= 100


def test_sets_from_generate_score_like_in_memory_sets_and_hit_the_cache(tmp_path, cache_env):
    from afroadv.evaluate import build_sets, evaluate, read_sets

    gen = tmp_path / "hau-cs.jsonl"
    r = run_cli("generate", "--lang", "hau", "--recipe", "codeswitch", "--limit", "20", "--seed", "3", "--out", gen)
    assert r.returncode == 0, r.stderr
    from_file = evaluate(["tiny-xlmr"], read_sets([gen]), n_boot=100, quiet=True)
    in_memory = evaluate(["tiny-xlmr"], build_sets("hau", ["codeswitch"], None, "test", 3, 20), n_boot=100, quiet=True)
    strip = lambda doc: [{k: v for k, v in x.items()} for x in doc["results"]]  # noqa: E731
    assert strip(from_file) == strip(in_memory)
    assert in_memory["manifest"]["models"][0]["cache"]["misses"] == 0  # every sentence came from the cache


def test_evaluate_errors_exit_2(tmp_path, cache_env):
    cases = [
        (["--model", "no-such-model", "--lang", "hau", "--recipe", "charnoise"], "unknown model"),
        (["--model", str(tmp_path), "--lang", "hau", "--recipe", "charnoise"], str(tmp_path)),
        (["--model", "tiny-xlmr", "--recipe", "charnoise"], "--lang"),
        (["--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--threads", "0"], "--threads"),
    ]
    old = tmp_path / "old.jsonl"
    r = run_cli("generate", "--lang", "hau", "--recipe", "charnoise", "--limit", "3", "--out", old)
    manifest = old.with_name("old.manifest.json")
    m = json.loads(manifest.read_text(encoding="utf-8"))
    m["afroadv_version"] = "0.0.1"
    manifest.write_text(json.dumps(m), encoding="utf-8")
    cases.append((["--model", "tiny-xlmr", "--sets", str(old)], "afroadv 0.0.1"))
    for args, message in cases:
        out = tmp_path / "r.json"
        r = run_cli("evaluate", *args, "--out", out, env=cache_env)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not out.exists()


@pytest.mark.integration
def test_e5_small_clean_spearman_matches_an_independent_computation(tmp_path, e5_small):
    """Our pipeline vs sentence-transformers' own encode + scipy on the same 50 SemRel hau pairs."""
    from sentence_transformers import SentenceTransformer

    from afroadv.data.catalog import load_dataset
    from afroadv.evaluate import build_sets, evaluate
    from afroadv.langs import get_language

    pairs = load_dataset(get_language("hau")).pairs[:50]
    model = SentenceTransformer(str(e5_small), device="cpu")
    a = model.encode(["query: " + p.sentence1 for p in pairs], normalize_embeddings=True)
    b = model.encode(["query: " + p.sentence2 for p in pairs], normalize_embeddings=True)
    independent = 100 * spearmanr([p.score for p in pairs], (a * b).sum(axis=1)).statistic
    doc = evaluate(["e5-small"], build_sets("hau", ["charnoise"], None, "test", 0, 50), n_boot=100, quiet=True)
    ours = next(x["spearman"] for x in doc["results"] if x["recipe"] == "clean")
    assert abs(ours - independent) < 0.5, (ours, independent)
