"""Compute precision (models/precision.py) and the encoder's batch plan: the default dtype follows the
hardware, bf16 agrees with fp32, the dtype keys the cache and the manifest, and check refuses to
compare results of different dtypes unless told to."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_shared, run_cli_here
from test_check import make_doc

from afroadv.errors import AfroadvError
from afroadv.models import precision


@pytest.fixture()
def cache_env(module_cache):
    return {"AFROADV_CACHE": str(module_cache)}


@pytest.mark.parametrize("native, expected", [(True, "bfloat16"), (False, "float32")])
def test_cpu_default_follows_native_bf16(monkeypatch, native, expected):
    monkeypatch.delenv("AFROADV_DTYPE")  # conftest pins fp32 for the other tests
    monkeypatch.setattr(precision, "cpu_native_bf16", lambda: native)
    assert precision.pick_dtype("cpu") == expected
    assert precision.pick_dtype("mps") == "float32"  # other accelerators: fp32 unless asked
    assert precision.pick_dtype("cpu", "fp32") == "float32"  # --dtype fp32 always wins
    assert precision.pick_dtype("cpu", "BF16") == "bfloat16"  # allowed (slow) even without native bf16


def test_afroadv_dtype_sets_the_default(monkeypatch):
    monkeypatch.setenv("AFROADV_DTYPE", "bf16")
    assert precision.pick_dtype("cpu") == "bfloat16" and precision.pick_dtype("cpu", "fp32") == "float32"
    monkeypatch.setenv("AFROADV_DTYPE", "fp8")
    with pytest.raises(AfroadvError, match="AFROADV_DTYPE: unknown --dtype"):
        precision.pick_dtype("cpu")


def test_weights_stay_fp32_on_cpu_and_autocast_applies_bf16():
    import torch

    assert precision.load_dtype("cpu", "bfloat16") == "float32"
    assert precision.load_dtype("cuda", "bfloat16") == "bfloat16"
    with precision.compute_context("cpu", "bfloat16"):
        assert torch.is_autocast_enabled("cpu")
        out = torch.nn.Linear(4, 4)(torch.ones(2, 4))
    assert out.dtype == torch.bfloat16
    with precision.compute_context("cpu", "float32"):
        assert torch.nn.Linear(4, 4)(torch.ones(2, 4)).dtype == torch.float32


@pytest.mark.parametrize("value, words", [("fp16", "needs a GPU"), ("int8", "unknown --dtype"), ("", "unknown --dtype")])
def test_bad_dtype_is_one_line_exit_2(tmp_path, value, words):
    out = tmp_path / "r.json"
    r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--limit", "5",
                     "--dtype", value, "--out", out)
    assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()
    with pytest.raises(AfroadvError, match="--dtype"):
        from afroadv.options import check_dtype

        check_dtype("float64")


def test_the_dtype_keys_the_cache_and_the_manifest(tmp_path, cache_env):
    from afroadv.models import load_encoder

    a = load_encoder("tiny-xlmr", dtype="fp32", device="cpu", cache=False)
    b = load_encoder("tiny-xlmr", dtype="bf16", device="cpu", cache=False)
    assert a.namespace != b.namespace and "bfloat16" in b.namespace and '"autocast":true' in b.namespace
    assert "autocast" not in a.namespace  # fp32 keys are those of earlier versions
    out = tmp_path / "r.json"
    r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--limit", "12",
                     "--bootstrap", "50", "--dtype", "bf16", "--out", out, env=cache_env)
    assert r.returncode == 0, r.stderr
    info = json.loads(out.read_text(encoding="utf-8"))["manifest"]["models"][0]
    assert info["dtype"] == "bfloat16" and info["device"] == "cpu"
    assert 0 < info["forward_seconds"] <= info["seconds"]


def test_batch_plan_equals_the_tokenizer_padding_each_batch():
    """The fast path (tokenise once, pad per batch in numpy) restates tokenizer(..., padding=True)."""
    from afroadv.models import load_encoder

    enc = load_encoder("tiny-xlmr", device="cpu", batch_size=3, cache=False).load()
    texts = ["query: Ina kwana?", "query: a", "query: Gwamnati ta bayar da kuɗi ga manoma a jihar Kano ranar Litinin.",
             "query: ሰላም ነው", "query: ", "query: Nairobi ni mji mkuu wa Kenya na una watu wengi sana."]
    plan = enc.batch_plan(texts)
    assert sorted(i for idx, _ in plan for i in idx) == list(range(len(texts)))
    widths = [arrays["input_ids"].shape[1] for _, arrays in plan]
    assert widths == sorted(widths, reverse=True)  # longest first
    for idx, arrays in plan:
        ref = enc._tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=enc.max_length,
                             return_tensors="np")
        assert set(arrays) == {k for k in ref if k in ("input_ids", "attention_mask", "token_type_ids")}
        for k, v in arrays.items():
            np.testing.assert_array_equal(v, ref[k])


@needs_shared
def test_bf16_spearman_agrees_with_fp32_on_every_semrel_set(cache_env):
    """bf16 autocast moves no SemRel Spearman by more than 0.1 point (tiny model: mechanism only; the
    e5-small figure is benchmarks/bench_evaluate.py's, on a CPU with native bf16)."""
    from afroadv.evaluate import build_sets, evaluate

    for lang in ("afr", "amh", "hau", "kin"):
        sets = build_sets(lang, ["charnoise"], None, "test", 0, 120)
        rows = {}
        for dtype in ("fp32", "bf16"):
            doc = evaluate(["tiny-xlmr"], sets, n_boot=20, quiet=True, dtype=dtype, device="cpu")
            rows[dtype] = {r["recipe"]: r["spearman"] for r in doc["results"]}
        worst = max(abs(rows["fp32"][k] - rows["bf16"][k]) for k in rows["fp32"])
        print(lang, worst)
        assert worst <= 0.1, (lang, worst)


def _dtype_doc(dtype):
    doc = make_doc()
    doc["manifest"]["models"][0]["dtype"] = dtype
    return doc


def test_check_refuses_mixed_dtypes_unless_told(tmp_path, capsys):
    from afroadv.check import check

    base, res = tmp_path / "b.json", tmp_path / "r.json"
    base.write_text(json.dumps(_dtype_doc("float32")), encoding="utf-8")
    res.write_text(json.dumps(_dtype_doc("bfloat16")), encoding="utf-8")
    with pytest.raises(AfroadvError, match="dtypes differ: results ran in bfloat16, baseline in float32"):
        check(res, base)
    cr = check(res, base, allow_dtype_mix=True)
    assert cr.passed and any("--allow-dtype-mix" in n for n in cr.notes)
    r = run_cli_here("check", res, "--baseline", base)
    assert r.returncode == 2 and "dtypes differ" in r.stderr
    assert run_cli_here("check", res, "--baseline", base, "--allow-dtype-mix").returncode == 0
    res.write_text(json.dumps(make_doc()), encoding="utf-8")  # older files record no dtype: compared as before
    assert check(res, base).passed


def test_attack_and_sweep_take_the_dtype():
    from afroadv.attack.runner import AttackConfig
    from afroadv.sweep import plan_cells

    assert AttackConfig(model="tiny-xlmr", lang="hau", recipe="charnoise", dtype="BF16").checked().dtype == "bfloat16"
    with pytest.raises(AfroadvError, match="unknown --dtype"):
        AttackConfig(model="tiny-xlmr", lang="hau", recipe="charnoise", dtype="fp8").checked()
    cell = plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], dtype="fp32")[0]
    assert cell.dtype == "float32" and cell.spec()["dtype"] == "float32"
    assert "dtype" not in plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"])[0].spec()  # older cells stay finished


def test_built_tokenizer_config_lists_the_added_tokens_of_tokenizer_json(tmp_path):
    """Listed so transformers need not re-parse tokenizer.json; the tokenizer must stay the same one
    (held against the same folder without the list)."""
    import shutil

    from transformers import AutoTokenizer

    from afroadv.models import load_encoder

    enc = load_encoder("tiny-xlmr", device="cpu", cache=False).load()
    folder = Path(enc.resolved.source)
    raw = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert {int(k): v["content"] for k, v in config.pop("added_tokens_decoder").items()} == \
        {t["id"]: t["content"] for t in raw}
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("tokenizer.json", "special_tokens_map.json", "config.json"):
        shutil.copyfile(folder / name, bare / name)
    (bare / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    texts = ["query: Ina <mask> kwana?", "query: ሰላም ነው </s>", "query: <pad> Nairobi ni mji mkuu", "query: kuɗi"]
    assert enc._tokenizer(texts)["input_ids"] == AutoTokenizer.from_pretrained(str(bare))(texts)["input_ids"]


def test_api_check_takes_allow_dtype_mix_and_older_files_get_a_note(tmp_path):
    import afroadv

    base, res = _dtype_doc("float32"), _dtype_doc("bfloat16")
    with pytest.raises(AfroadvError, match="dtypes differ"):
        afroadv.check(res, base)
    assert afroadv.check(res, base, allow_dtype_mix=True).passed
    cr = afroadv.check(res, make_doc())  # the baseline was made before --dtype
    assert cr.passed and any("records no dtype" in n for n in cr.notes)
    bad = make_doc()
    bad["manifest"]["models"] = 5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    good = tmp_path / "base.json"
    good.write_text(json.dumps(base), encoding="utf-8")
    r = run_cli_here("check", path, "--baseline", good)  # a malformed model list is a file without dtypes
    assert r.returncode == 0 and "records no dtype" in r.stdout and "Traceback" not in r.stderr


def test_sweep_merge_keeps_every_cells_dtype_and_resume_reruns_another_dtype(tmp_path, cache_env):
    from afroadv.sweep import is_finished, merge_cell_docs, plan_cells, run_cell

    cell = plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], limit=8, bootstrap=20)[0]
    doc = run_cell(cell)
    path = tmp_path / "cell.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert doc["manifest"]["models"][0]["dtype"] == "float32" and is_finished(path, cell)
    doc["manifest"]["models"][0]["dtype"] = "bfloat16"  # as if finished on a CPU with native bf16
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc), encoding="utf-8")
    assert not is_finished(other, cell)  # here the cell runs in fp32: it runs again
    merged = merge_cell_docs([cell, cell], [path, other])
    assert merged["manifest"]["models"][0]["dtypes"] == ["float32", "bfloat16"]


def test_random_and_real_models_are_refused_before_any_work():
    from dataclasses import replace

    from afroadv.models import resolve_model
    from afroadv.models.registry import refuse_random_with_real

    real = resolve_model("tiny-xlmr")
    fake = replace(real, random_weights=True)
    with pytest.raises(AfroadvError, match="random-weight model b and real model a in one run"):
        refuse_random_with_real({"a": real, "b": fake})
    refuse_random_with_real({"b": fake, "c": fake})  # random with random: a speed run
    with pytest.raises(AfroadvError, match="in-memory model"):
        from afroadv.evaluate import build_sets, evaluate

        evaluate([lambda texts: np.ones((len(texts), 4))], build_sets("hau", ["charnoise"], None, "test", 0, 5),
                 dtype="bf16", quiet=True)
