"""The Python API (afroadv.perturb / generate / evaluate / attack / check), in-memory models, prompts."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import afroadv
from afroadv.errors import AfroadvError
from conftest import run_cli_here

HAUSA = [
    ("Ina son ka zo gidan mu gobe da safe domin mu tattauna.", "Zan zo gidanku gobe da safe mu yi magana.", 0.8),
    ("Musa ya tafi kasuwa a Kano ranar Litinin.", "Musa ya je kasuwar Kano ranar Litinin.", 0.9),
    ("Yara suna wasa a filin makaranta bayan an tashi.", "Malamai suna koyarwa a cikin aji.", 0.2),
    ("Ruwan sama ya sauka sosai a daren jiya a garin Zariya.", "An yi ruwan sama mai yawa jiya da dare.", 0.7),
    ("Gwamnati ta bude sabuwar asibiti a birnin Sokoto.", "An kaddamar da sabon asibiti a Sokoto.", 0.85),
    ("Ban san lokacin da jirgin kasa zai tashi ba.", "Jirgin sama ya sauka lafiya a Abuja.", 0.1),
    ("Abinci ya yi tsada a wannan shekara fiye da bara.", "Farashin abinci ya hau sosai a bana.", 0.75),
    ("Aisha tana karatun likitanci a jami'a.", "Aisha daliba ce a fannin likitanci.", 0.9),
]


@pytest.fixture(scope="module", autouse=True)
def _cache_dir(module_cache):
    return module_cache


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "hau-pairs.jsonl"
    path.write_text("".join(json.dumps({"sentence1": a, "sentence2": b, "score": s}) + "\n" for a, b, s in HAUSA),
                    encoding="utf-8")
    EVAL["dataset"] = str(path)
    return path


EVAL = {"lang": "hau", "recipes": ["charnoise"], "bootstrap": 50}  # + the dataset (pairs_file)


def _clean(doc: dict) -> float:
    return next(r["spearman"] for r in doc["results"] if r["recipe"] == "clean")


# ------------------------------------------------------------------ import, perturb, generate
def test_import_stays_light_and_exposes_the_api():
    code = ("import sys, afroadv, inspect; import afroadv.attack.core as core; from afroadv.generate import COLUMNS; "
            "assert callable(afroadv.generate) and callable(afroadv.attack) and callable(afroadv.check); "
            "assert 'limit' in inspect.signature(afroadv.generate).parameters; "
            "assert afroadv.perturb.recipe.load_recipe and core.AttackSpace; "
            "afroadv.perturb('Musa ya tafi kasuwa a Kano.', 'hau', 'charnoise'); "
            "print(sorted(m for m in ('torch', 'transformers', 'datasets', 'textattack') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert {"perturb", "generate", "evaluate", "attack", "check"} <= set(afroadv.__all__)


@pytest.mark.parametrize("recipe", ["charnoise", "keyboard", "codeswitch"])
def test_perturb_equals_generates_record_for_the_same_stream(pairs_file, recipe):
    gs = afroadv.generate("hau", recipe, dataset=str(pairs_file), seed=3)
    context = [t for a, b, _ in HAUSA for t in (a, b)]
    for r in gs.records:
        assert afroadv.perturb(r["orig_sentence1"], "hau", recipe, seed=3, id=r["source_id"], context=context) == r["sentence1"]
    assert any(r["sentence1"] != r["orig_sentence1"] for r in gs.records)
    text = HAUSA[0][0]
    assert afroadv.perturb(text, "hau", recipe, seed=3) == afroadv.perturb(text, "hau", recipe, seed=3)
    assert afroadv.perturb(text, "hau", "charnoise", seed=3, rate=1.0) != text


def test_generate_save_read_round_trip(pairs_file, tmp_path):
    from afroadv.data.writers import read_set_manifest
    from afroadv.evaluate import read_sets
    from afroadv.generate import generate, write_set

    gs = afroadv.generate("hau", "charnoise", dataset=str(pairs_file), seed=1)
    assert len(gs) == len(HAUSA) and gs.manifest["kind"] == "generated-set"
    assert gs.records == generate("hau", "charnoise", dataset=str(pairs_file), seed=1).records  # the CLI's function
    for name in ("set.jsonl", "set.parquet"):
        manifest = gs.save(tmp_path / name)
        assert manifest.is_file()
        assert read_set_manifest(tmp_path / name)["input_sha256"] == gs.manifest["input_sha256"]
        back = read_sets([tmp_path / name])[0]
        assert back.perturbed == [(r["sentence1"], r["sentence2"]) for r in gs.records]
    rows = [json.loads(line) for line in (tmp_path / "set.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == gs.records
    write_set(tmp_path / "cli.jsonl", gs)  # what `afroadv generate --out` writes: the same bytes
    assert (tmp_path / "cli.jsonl").read_bytes() == (tmp_path / "set.jsonl").read_bytes()
    with pytest.raises(AfroadvError, match="jsonl|parquet"):
        gs.save(tmp_path / "set.txt")


def test_to_hf_column_types(pairs_file):
    datasets = pytest.importorskip("datasets")
    gs = afroadv.generate("hau", "charnoise", dataset=str(pairs_file))
    ds = gs.to_hf()
    assert isinstance(ds, datasets.Dataset) and len(ds) == len(HAUSA)
    types = {k: v.dtype for k, v in ds.features.items()}
    assert types["score"] == "float64" and types["changed"] == "bool" and types["seed"] == "int64"
    assert types["sentence1"] == "string" and types["n_words"] == "int64"
    assert ds[0]["sentence1"] == gs.records[0]["sentence1"]
    from afroadv.generate import GeneratedSet

    unscored = GeneratedSet([{**r, "score": None, "task": "bitext"} for r in gs.records], gs.manifest).to_hf()
    assert unscored.features["score"].dtype == "float64"  # null scores keep a float column
    assert datasets.concatenate_datasets([ds, unscored]).features["score"].dtype == "float64"


# ------------------------------------------------------------------ evaluate: every kind of model
@pytest.fixture(scope="module")
def tiny_folder() -> str:
    from afroadv.models import resolve_model

    return resolve_model("tiny-xlmr").source




def test_evaluate_alias_folder_st_object_and_callable_agree_with_the_cli(pairs_file, tiny_folder, tmp_path):
    st_mod = pytest.importorskip("sentence_transformers")
    kw = EVAL
    r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--dataset",
                     pairs_file, "--bootstrap", "50", "--out", tmp_path / "cli.json")
    assert r.returncode == 0, r.stderr
    cli = json.loads((tmp_path / "cli.json").read_text())
    alias = afroadv.evaluate("tiny-xlmr", **kw)
    assert alias["results"] == cli["results"]
    folder = afroadv.evaluate(tiny_folder, **kw)
    st = st_mod.SentenceTransformer(tiny_folder, device="cpu")
    obj = afroadv.evaluate(st, **kw)
    fn = afroadv.evaluate(lambda texts: st.encode(texts, convert_to_numpy=True), name="st-encode", **kw)
    for doc in (folder, obj, fn):
        assert _clean(doc) == pytest.approx(_clean(cli), abs=0.02)
        assert [r["recipe"] for r in doc["results"]] == ["clean", "charnoise"]
    info = obj["manifest"]["models"][0]
    assert info["fingerprint"] == "in-memory" and info["cache"] is None and info["kind"] == "bi"
    assert info["in_memory"]["class"].endswith("SentenceTransformer") and info["params"] > 0
    assert info["model_id"] == "in-memory:SentenceTransformer"  # never a hub id it may not be
    assert fn["manifest"]["models"][0]["model"] == "st-encode"
    assert fn["results"][0]["model_id"] == "in-memory:st-encode"


def test_evaluate_cross_encoder_object_matches_the_alias(pairs_file):
    st_mod = pytest.importorskip("sentence_transformers")
    from afroadv.models import resolve_model

    kw = EVAL
    alias = afroadv.evaluate("tiny-xlmr-cross", **kw)
    ce = st_mod.CrossEncoder(resolve_model("tiny-xlmr-cross").source, device="cpu")
    obj = afroadv.evaluate(ce, **kw)
    assert _clean(obj) == pytest.approx(_clean(alias), abs=0.02)
    assert obj["manifest"]["models"][0]["kind"] == "cross"


def test_prompt_changes_embeddings_cache_keys_and_is_recorded(pairs_file, cache, tiny_folder, tmp_path):
    from afroadv.models import load_encoder

    plain = load_encoder("tiny-xlmr", cache=cache)
    prompted = load_encoder("tiny-xlmr", cache=cache, prefix="query: ")
    assert plain.namespace != prompted.namespace
    a, b = plain.encode(["Musa ya tafi kasuwa."]), prompted.encode(["Musa ya tafi kasuwa."])
    assert not np.allclose(a, b)
    assert prompted.encode(["Musa ya tafi kasuwa."]).tolist() == b.tolist()  # its own rows, read back
    cross = [load_encoder("tiny-xlmr-cross", cache=cache, prefix=p).namespace for p in ("", "query: ")]
    assert cross[0] != cross[1] and "prefix" not in cross[0]  # no prompt: the namespace it always had

    kw = EVAL
    doc = afroadv.evaluate("tiny-xlmr", prompt="query: ", **kw)
    assert doc["manifest"]["models"][0]["prompt"] == "query: "
    assert _clean(doc) != _clean(afroadv.evaluate("tiny-xlmr", **kw))
    r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "hau", "--recipe", "charnoise", "--dataset",
                     pairs_file, "--bootstrap", "50", "--prompt", "query: ", "--out", tmp_path / "p.json")
    assert r.returncode == 0, r.stderr
    cli = json.loads((tmp_path / "p.json").read_text())
    assert cli["results"] == doc["results"] and cli["manifest"]["models"][0]["prompt"] == "query: "
    seen = []
    afroadv.evaluate(lambda t: seen.extend(t) or np.array([[len(x), x.count("a") + 1.0, 1.0] for x in t]), prompt="Q: ", **kw)
    assert seen and all(t.startswith("Q: ") for t in seen)


def test_e5_alias_default_prompt_is_the_registry_prompt():
    from afroadv.models.registry import REGISTRY

    assert REGISTRY["e5-small"].query_prefix == "query: "  # e5-small's default, through the prompt mechanism


def test_a_folder_default_prompt_is_used_and_can_be_overridden(tiny_folder, tmp_path, cache):
    import shutil

    from afroadv.models import load_encoder, resolve_model

    folder = tmp_path / "prompted"
    shutil.copytree(tiny_folder, folder)
    (folder / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}))
    assert resolve_model(str(folder)).query_prefix == "query: "
    assert load_encoder(str(folder), cache=cache).prefix == "query: "
    assert load_encoder(str(folder), cache=cache, prefix="").prefix == ""
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {}, "default_prompt_name": "x"}))
    with pytest.raises(AfroadvError, match="default prompt 'x'"):
        resolve_model(str(folder))


def test_train_saves_its_prompt_and_loading_uses_it(tmp_path):
    pytest.importorskip("sentence_transformers")
    from afroadv.models import resolve_model
    from afroadv.train import TrainOptions, train

    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"sentence1": a, "sentence2": b, "score": s}) + "\n" for a, b, s in HAUSA * 2))
    out = tmp_path / "trained"
    info = train(TrainOptions(model="tiny-xlmr", out=out, data=str(data), max_steps=1, batch_size=4, max_seq_length=32,
                              progress=False, prompt="query: "))
    assert info["prompt"] == "query: "
    config = json.loads((out / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: " and config["default_prompt_name"] == "query"
    assert "`query: `" in (out / "README.md").read_text()
    assert resolve_model(str(out)).query_prefix == "query: "
    doc = afroadv.evaluate(str(out), lang="hau", recipes=["charnoise"], dataset=str(data), bootstrap=50)
    assert doc["manifest"]["models"][0]["prompt"] == "query: "


def test_sweep_cells_carry_the_prompt(pairs_file):
    from afroadv.sweep import plan_cells

    kw = {"dataset": str(pairs_file), "bootstrap": 50}
    plain = plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], **kw)[0]
    prompted = plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], prompt="query: ", **kw)[0]
    assert "prompt" not in plain.spec() and prompted.spec()["prompt"] == "query: "  # a finished cell is redone
    with pytest.raises(AfroadvError, match="--prompt"):
        plan_cells(["tiny-xlmr"], ["hau"], ["charnoise"], prompt=3, **kw)


# ------------------------------------------------------------------ attack, check
def test_attack_and_check_entry_points(pairs_file, tmp_path):
    run = afroadv.attack("tiny-xlmr", "hau", "charnoise", out=tmp_path / "att", dataset=str(pairs_file), limit=3,
                         candidates=1, budget=0.2, prompt="query: ")
    assert run.summary["n"] == 3
    manifest = json.loads((tmp_path / "att" / "adversarial.manifest.json").read_text())
    assert manifest["model"]["prompt"] == "query: "
    doc = afroadv.evaluate("tiny-xlmr", **EVAL)
    assert afroadv.check(doc, doc).passed
    (tmp_path / "base.json").write_text(json.dumps(doc))
    assert afroadv.check(doc, tmp_path / "base.json").passed
    with pytest.raises(AfroadvError, match="no option 'budjet'"):
        afroadv.attack("tiny-xlmr", "hau", out=tmp_path / "x", budjet=0.1)


# ------------------------------------------------------------------ bad input: one line
def _nan(texts):
    return np.full((len(texts), 4), np.nan)


@pytest.mark.parametrize("call,msg", [
    (lambda: afroadv.perturb(3, "hau", "charnoise"), "takes a text"),
    (lambda: afroadv.perturb("a b", "xx", "charnoise"), "language"),
    (lambda: afroadv.perturb("a b", "hau", "nope"), "recipe"),
    (lambda: afroadv.perturb("a b", "hau", "charnoise", rate=0), "--rate"),
    (lambda: afroadv.perturb("a b", "hau", "charnoise", seed=-1), "--seed"),
    (lambda: afroadv.evaluate(object(), **EVAL), "cannot encode"),
    (lambda: afroadv.evaluate(lambda t: np.ones(len(t)), **EVAL), "shape"),
    (lambda: afroadv.evaluate(_nan, **EVAL), "non-finite"),
    (lambda: afroadv.evaluate(lambda t: np.zeros((len(t), 3)), **EVAL), "zero vector"),
    (lambda: afroadv.evaluate([_nan, _nan], **EVAL), "both named"),
    (lambda: afroadv.evaluate("tiny-xlmr", prompt="a\nb", **EVAL), "--prompt"),
    (lambda: afroadv.evaluate("tiny-xlmr", name="x", **EVAL), "name="),
    (lambda: afroadv.evaluate("tiny-xlmr", lang="hau"), "recipes="),
    (lambda: afroadv.evaluate("tiny-xlmr", lang="hau", recipes="charnoise,nope"), "nope"),
    (lambda: afroadv.check(42, 42), "results document"),
])
def test_bad_input_is_one_afroadv_error(call, msg, pairs_file):
    with pytest.raises(AfroadvError) as e:
        call()
    assert msg in str(e.value) and "\n" not in str(e.value)
