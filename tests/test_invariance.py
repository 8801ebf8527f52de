"""Calibrated invariance for text without gold: the 0–100 formula and self-retrieval@1 on a fake
encoder whose cosines are known exactly, their bootstrap CIs, the wordswap control beside each
recipe, `afroadv check` gating on invariance, and older results (raw `margin` only) still readable
by report and check."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from afroadv import __version__
from afroadv.check import check
from afroadv.errors import AfroadvError
from afroadv.evaluate import EvalSet, build_sets, evaluate, format_table
from afroadv.metrics import invariance_ci, invariance_score, mean_cos_to_others, pool_retrieval_hits

C = 0.5  # the cosine between any two different originals
ORIGINALS = ["o0", "o1", "o2", "o3"]


def _table() -> dict[str, np.ndarray]:
    """Unit vectors with known cosines: e_i = √C·u + √(1−C)·v_i (so e_i·e_j = C); a perturbed text
    p = a·e_i + √(1−a²)·w with w orthogonal to everything else (so p·e_i = a, p·e_j = a·C)."""
    dim = 1 + 4 + 4
    basis = np.eye(dim)
    e = {f"o{i}": np.sqrt(C) * basis[0] + np.sqrt(1 - C) * basis[1 + i] for i in range(4)}

    def p(i, a, w):
        return a * e[f"o{i}"] + np.sqrt(1 - a * a) * basis[5 + w]

    return {**e, "p0": e["o1"], "p1": p(1, 0.9, 0), "p2": p(2, 0.8, 1), "p3": e["o3"]}


TABLE = _table()


def fake_encode(texts):
    return np.stack([TABLE[t] for t in texts])


def _set(perturbed, recipe="charnoise") -> EvalSet:
    return EvalSet("hau", "tweets", "invariance", recipe, ORIGINALS, [(o, o) for o in ORIGINALS],
                   [(p, o) for p, o in zip(perturbed, ORIGINALS)], [None] * 4, 0.25, 0.75)


def _row(perturbed, **kw):
    doc = evaluate([fake_encode], [_set(perturbed)], n_boot=200, quiet=True, **kw)
    (row,) = doc["results"]
    return doc, row


def test_invariance_and_retrieval_have_their_exact_values():
    doc, row = _row(["p0", "p1", "p2", "p3"], retrieval_k=4)
    # self cosines 0.5 (p0 is o1's vector), 0.9, 0.8, 1.0 → mean 0.8; random pairs exactly 0.5
    assert row["mean_cos_self"] == pytest.approx(0.8, abs=1e-4)
    assert row["mean_cos_random"] == pytest.approx(C, abs=1e-4)
    assert row["invariance"] == pytest.approx(100 * (0.8 - C) / (1 - C), abs=1e-3)  # 60.0
    assert row["retrieval_at1"] == pytest.approx(75.0)  # p0 finds o1 first; the others find their own
    assert row["retrieval_k"] == 4 and doc["manifest"]["retrieval_k"] == 4
    assert "margin" not in row  # one calibrated measure; the raw means stay for transparency
    lo, hi = row["invariance_ci"]
    assert lo <= row["invariance"] <= hi and hi - lo > 0
    lo, hi = row["retrieval_at1_ci"]
    assert 0 <= lo <= 75 <= hi <= 100
    assert "invariance  60.0" in format_table(doc)


def test_unchanged_text_scores_100_and_random_text_0():
    _, same = _row(["o0", "o1", "o2", "o3"])
    assert same["invariance"] == pytest.approx(100.0, abs=1e-3) and same["retrieval_at1"] == 100.0
    _, swapped = _row(["o1", "o2", "o3", "o0"], retrieval_k=4)  # each text replaced by another original
    assert swapped["invariance"] == pytest.approx(0.0, abs=1e-3) and swapped["retrieval_at1"] == 0.0


def test_formula_and_ci_directly():
    s, r = np.array([0.9, 0.95, 1.0]), np.array([0.8, 0.8, 0.8])
    assert invariance_score(s, r) == pytest.approx(100 * (0.95 - 0.8) / 0.2)
    assert invariance_score(s, np.ones(3)) is None  # every sentence identical to every other: undefined
    assert invariance_ci(np.full(5, 0.9), np.full(5, 0.5), n_boot=50) == pytest.approx((80.0, 80.0))
    a, b = invariance_ci(s, r, n_boot=100, seed=3), invariance_ci(s, r, n_boot=100, seed=3)
    assert a == b  # seeded like every other CI
    emb = np.stack([TABLE[o] for o in ORIGINALS])
    assert mean_cos_to_others(emb) == pytest.approx([C] * 4)


def test_retrieval_pool_is_k_candidates_in_a_seeded_circular_order():
    targets = np.stack([TABLE[o] for o in ORIGINALS])
    queries = np.stack([TABLE[p] for p in ("p0", "p1", "p2", "p3")])
    assert pool_retrieval_hits(queries, targets, k=4).tolist() == [0, 1, 1, 1]
    assert pool_retrieval_hits(queries, targets, k=1000).tolist() == [0, 1, 1, 1]  # K is capped at the set's size
    # with K=2, p0 misses only when o1 is the one candidate beside o0: it depends on the seed, reproducibly
    by_seed = {seed: pool_retrieval_hits(queries, targets, k=2, seed=seed)[0] for seed in range(12)}
    assert set(by_seed.values()) == {0.0, 1.0}
    assert all(pool_retrieval_hits(queries, targets, k=2, seed=s)[0] == h for s, h in by_seed.items())


def test_cross_encoders_get_invariance_without_retrieval():
    from afroadv.evaluate import _invariance_measures, _random_cos

    class CrossScorer:  # what evaluate's scorer offers for a cross-encoder: pair scores, no embeddings
        bi = False

        def pair_scores(self, pairs):
            return np.array([TABLE[a] @ TABLE[b] for a, b in pairs])

    rand = _random_cos(CrossScorer(), ORIGINALS, seed=0)  # one seeded random partner each, never itself
    assert rand == pytest.approx([C] * 4)
    m = _invariance_measures(CrossScorer(), _set(["p0", "p1", "p2", "p3"]), rand, n_boot=50, seed=0, k=4)
    assert m["invariance"] == pytest.approx(60.0, abs=1e-3) and m["retrieval_at1"] is None


def test_retrieval_k_option_is_checked():
    with pytest.raises(AfroadvError, match="--retrieval-k must be at least 2"):
        evaluate([fake_encode], [_set(["p0", "p1", "p2", "p3"])], retrieval_k=1, quiet=True)


# --- the wordswap control ------------------------------------------------------------------------


def _bag_of_words(texts):
    """A deterministic encoder: hashed bag of words (no model)."""
    import zlib

    out = np.zeros((len(texts), 256))
    for i, t in enumerate(texts):
        for w in t.split():
            out[i, zlib.crc32(w.encode()) % 256] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_every_recipe_gets_a_wordswap_control_at_its_realised_word_rate():
    sets = build_sets("hau", ["charnoise", "diacritics"], "tweets", "test", 0, 80)
    for s in sets:
        assert s.control is not None and s.control.recipe == "wordswap"
        assert s.control.ids == s.ids and [c[0] for c in s.control.clean] == [c[0] for c in s.clean]
        assert s.control.word_rate == pytest.approx(s.word_rate, abs=0.01)  # as many words changed (hau charnoise: 10%)
    doc = evaluate([_bag_of_words], sets, n_boot=50, quiet=True)
    for row in doc["results"]:
        c = row["control"]
        assert c["recipe"] == "wordswap" and c["word_rate"] == pytest.approx(row["word_rate"], abs=0.01)
        lo, hi = c["invariance_ci"]
        assert lo <= c["invariance"] <= hi and c["retrieval_at1"] is not None
    charnoise = doc["results"][0]
    assert charnoise["control"]["invariance"] < 100  # the control really changed words
    assert all("control" in s for s in doc["manifest"]["sets"])
    assert "| wordswap (" in format_table(doc)
    # the same seed gives the same control
    again = evaluate([_bag_of_words], build_sets("hau", ["charnoise"], "tweets", "test", 0, 80), n_boot=50, quiet=True)
    assert again["results"][0]["control"] == charnoise["control"]


def test_no_control_for_wordswap_itself_or_a_recipe_that_changed_nothing(monkeypatch):
    evaluate_mod = sys.modules["afroadv.evaluate"]
    s = _set(["o0", "o1", "o2", "o3"])
    s.word_rate = 0.0
    evaluate_mod.add_control(s, None, None, [], 0)
    assert s.control is None
    ws = _set(["o0", "o1", "o2", "o3"])
    ws.recipe, ws.word_rate = "wordswap", 0.3
    evaluate_mod.add_control(ws, None, None, [], 0)  # (returns before it needs a language or data)
    assert ws.control is None
    with pytest.raises(AfroadvError, match="needs pairs"):  # and wordswap itself is directional: pairs only
        build_sets("hau", ["wordswap"], "tweets", "test", 0, 20)


# --- check gates on invariance; older margin-only results still load -----------------------------


def _doc(invariance=None, margin=None, ci=None, model="m"):
    row = {"model": model, "model_id": model, "model_params": None, "lang": "hau", "dataset": "tweets", "task": "invariance",
           "recipe": "charnoise", "n": 30, "mean_cos_self": 0.95, "mean_cos_random": 0.9}
    if invariance is not None:
        row.update(invariance=invariance, invariance_ci=ci, retrieval_at1=90.0, retrieval_at1_ci=[85.0, 95.0],
                   retrieval_k=30, control={"recipe": "wordswap", "rate": 0.1, "word_rate": 0.09, "invariance": 20.0,
                                            "invariance_ci": [15.0, 25.0], "retrieval_at1": 40.0,
                                            "retrieval_at1_ci": [30.0, 50.0]})
    else:
        row.update(margin=margin, margin_ci=ci)
    return {"afroadv_version": __version__, "kind": "evaluation-results", "results": [row],
            "manifest": {"afroadv_version": __version__, "seed": 0, "bootstrap": {"n": 200, "ci": 0.95},
                         "sets": [{"lang": "hau", "dataset": "tweets", "task": "invariance", "recipe": "charnoise",
                                   "n": 30, "seed": 0, "input_sha256": "x"}]}}


def _write(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_check_gates_on_invariance_points(tmp_path):
    base = _write(tmp_path / "b.json", _doc(50.0, ci=[45.0, 55.0]))
    same = check(_write(tmp_path / "r.json", _doc(49.5, ci=[45.0, 54.0])), base)
    assert same.passed and same.cells[0].measure == "invariance"
    worse = check(_write(tmp_path / "r.json", _doc(40.0, ci=[36.0, 44.0])), base)
    assert not worse.passed and worse.cells[0].worse_by == pytest.approx(10.0)
    noisy = check(_write(tmp_path / "r.json", _doc(47.0, ci=[40.0, 54.0])), base)  # over the limit, inside the CI
    assert noisy.passed and noisy.cells[0].status == "noise"


def test_older_margin_only_results_still_load(tmp_path):
    from afroadv.report import build_report

    old = _write(tmp_path / "old.json", _doc(margin=0.05, ci=[0.04, 0.06]))
    older = check(_write(tmp_path / "old2.json", _doc(margin=0.03, ci=[0.02, 0.04])), old)
    assert not older.passed and older.cells[0].measure == "margin" and older.cells[0].worse_by == pytest.approx(2.0)
    assert any("raw cosine margin" in n for n in older.notes)
    with pytest.raises(AfroadvError, match="refresh the baseline with --update-baseline"):
        check(_write(tmp_path / "new.json", _doc(50.0, ci=[45.0, 55.0])), old)
    old_model = _write(tmp_path / "old-model.json", _doc(margin=0.05, ci=[0.04, 0.06], model="old-m"))
    build_report([old_model, tmp_path / "new.json"], tmp_path / "rep", ["md", "csv"])
    md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    assert "old-model.json carries invariance rows with only the raw cosine margin" in md
    assert "| hau | tweets | charnoise | old-m | 30 | 0.950 | 0.900 | – | – | – | 0.050 [0.040, 0.060] |" in md
    assert "| 50.0 [45.0, 55.0] | 90.0 [85.0, 95.0] (K=30) | 20.0 [15.0, 25.0] (wordswap, 9.0% of words) | – |" in md
    import csv

    with open(tmp_path / "rep" / "report.csv", encoding="utf-8", newline="") as f:
        metrics = {row["metric"] for row in csv.DictReader(f)}
    assert metrics == {"cos_self", "cos_random", "margin", "invariance", "retrieval_at1", "control_invariance"}


def test_sets_written_by_generate_get_their_control_too(tmp_path):
    from afroadv.api import generate
    from afroadv.evaluate import read_sets

    path = tmp_path / "hau-tweets.jsonl"
    generate("hau", "charnoise", dataset="tweets", limit=40, seed=2).save(path)
    (s,) = read_sets([path])
    assert s.control is not None and s.control.provenance["seed"] == 2
    assert [c[0] for c in s.control.clean] == [c[0] for c in s.clean]
    assert s.control.word_rate == pytest.approx(s.word_rate, abs=0.02)
