"""Robust training (`afroadv train`): seeded augmentation, data loading, and a few optimizer steps
of a tiny random XLM-R for each method and head. Everything offline; models and caches live in a
temporary folder."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from afroadv.augment import Augmenter, codeswitch_candidates, load_neighbours, rsda_text
from afroadv.data.pairs import Pair
from afroadv.errors import AfroadvError
from afroadv.lexicons.store import load_lexicon
from afroadv.perturb.recipe import derived_rng
from afroadv.text import split_tokens

SENTENCES = [
    ("A man is playing a guitar.", "A man plays the guitar."),
    ("A woman is slicing an onion.", "A woman cuts an onion."),
    ("The dog is running in the water.", "A dog runs through the water."),
    ("Children are playing football in the school.", "Kids play soccer at school."),
    ("A man is driving a car.", "A woman is riding a horse."),
    ("The government will build new houses.", "The president visited the hospital."),
]


def _pairs(n: int = 24) -> list[Pair]:
    return [Pair(f"p{i}", "eng", "sts", *SENTENCES[i % len(SENTENCES)], float(i % 6)) for i in range(n)]


def _write_stsb(path: Path, n: int = 24) -> Path:
    """A small STS-B-format TSV (genre, file, year, id, score 0–5, s1, s2), no quoting."""
    rows = [f"main-captions\tMSRvid\t2012test\t{i:04d}\t{p.score:.3f}\t{p.sentence1}\t{p.sentence2}"
            for i, p in enumerate(_pairs(n))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module", autouse=True)
def _cache_dir(module_cache):
    return module_cache


@pytest.fixture(scope="module")
def stsb_file(tmp_path_factory) -> Path:
    return _write_stsb(tmp_path_factory.mktemp("data") / "sts-train.csv")


# ----------------------------------------------------------------------------- augmentation


def _copies(aug: Augmenter, pairs=None):
    pairs = pairs or _pairs()
    out, _ = aug.augment(pairs, [p.score / 5 for p in pairs])
    return [e for e in out if e.copy]


@pytest.mark.parametrize("method,kw", [("rs-da", {}), ("codeswitch-aug", {"langs": ("hau", "amh")}),
                                       ("plain", {"recipes": ("charnoise",)})])
def test_augmentation_is_seeded(method, kw):
    a = _copies(Augmenter(method, 2, seed=1, **kw))
    b = _copies(Augmenter(method, 2, seed=1, **kw))
    c = _copies(Augmenter(method, 2, seed=2, **kw))
    assert a == b
    assert [(e.sentence1, e.sentence2) for e in a] != [(e.sentence1, e.sentence2) for e in c]
    # order-independent: a copy depends on (seed, pair id, copy index), not on the other pairs
    reversed_pairs = list(reversed(_pairs()))
    d = _copies(Augmenter(method, 2, seed=1, **kw), reversed_pairs)
    assert sorted(d, key=lambda e: e.id) == sorted(a, key=lambda e: e.id)


@pytest.mark.parametrize("method,kw", [("rs-da", {}), ("codeswitch-aug", {}), ("plain", {"recipes": ("keyboard",)})])
def test_augmented_pairs_keep_gold_scores(method, kw):
    pairs = _pairs()
    scores = [p.score / 5 for p in pairs]
    out, stats = Augmenter(method, 3, seed=0, **kw).augment(pairs, scores)
    gold = {p.id: s for p, s in zip(pairs, scores)}
    assert len(out) == 4 * len(pairs) and stats["copies"] == 3 * len(pairs)
    assert all(e.score == gold[e.source_id] for e in out)
    originals = [e for e in out if e.copy == 0]
    assert [(e.sentence1, e.sentence2) for e in originals] == [(p.sentence1, p.sentence2) for p in pairs]
    assert stats["copies_changed_share"] > 0.5


def test_rsda_only_swaps_words_for_listed_neighbours():
    nb = load_neighbours()
    copies = _copies(Augmenter("rs-da", 5, seed=3))
    by_id = {p.id: p for p in _pairs()}
    n_swapped = 0
    for e in copies:
        src = by_id[e.source_id]
        for old, new in ((src.sentence1, e.sentence1), (src.sentence2, e.sentence2)):
            a, b = split_tokens(old), split_tokens(new)
            assert len(a) == len(b) and a[0::2] == b[0::2]  # same words count, spacing, punctuation
            for wa, wb in zip(a[1::2], b[1::2]):
                if wa != wb:
                    assert wb.casefold() in nb.get(wa), (wa, wb)
                    n_swapped += 1
    assert n_swapped > 20


def test_rsda_draw_includes_the_word_itself():
    nb = load_neighbours()
    seen = {rsda_text("dog", nb, derived_rng("t", i))[0] for i in range(200)}
    assert "dog" in seen and len(seen) > 3 and seen <= {"dog", *nb.get("dog")}


def test_codeswitch_aug_yields_target_language_words():
    langs = ("hau", "afr")
    copies = _copies(Augmenter("codeswitch-aug", 4, seed=0, langs=langs, switch_rate=1.0))
    assert {e.lang for e in copies} == set(langs)
    by_id = {p.id: p for p in _pairs()}
    hits = 0
    for e in copies:
        lex = load_lexicon(e.lang)
        targets = {w for ws in lex.from_english.values() for w in ws}
        src = by_id[e.source_id]
        for old, new in ((src.sentence1, e.sentence1), (src.sentence2, e.sentence2)):
            for wa, wb in zip(split_tokens(old)[1::2], split_tokens(new)[1::2]):
                if wa != wb:
                    assert wb.casefold() in lex.translate_english(wa)
                    assert wb.casefold() in targets
                    hits += 1
    assert hits > 10
    # stop words are never switched
    _, eligible = codeswitch_candidates("The man is in the house.", load_lexicon("hau"))
    assert all(split_tokens("The man is in the house.")[i].casefold() not in {"the", "is", "in"} for i in eligible)


def test_codeswitch_aug_with_recipes_uses_the_copy_language():
    aug = Augmenter("codeswitch-aug", 2, seed=0, langs=("amh", "hau"), recipes=("translit",))
    assert aug.describe()["recipe_languages"] == {"translit": ["amh"]}
    copies = _copies(aug)
    amh = [e for e in copies if e.lang == "amh"]
    assert amh and not any("\u1200" <= ch <= "\u137f" for e in amh for ch in e.sentence1 + e.sentence2)


@pytest.mark.parametrize("kw,msg", [
    ({"method": "adversarial"}, "unknown method"),
    ({"method": "rs-da", "copies": 0}, "--copies"),
    ({"method": "plain", "recipes": ("translit",)}, "does not apply to English"),
    ({"method": "plain", "langs": ("hau",)}, "--langs only applies"),
    ({"method": "codeswitch-aug", "langs": ("klingon",)}, "unknown language"),
    ({"method": "plain", "recipes": ("nosuchrecipe",)}, "unknown recipe"),
])
def test_bad_augmentation_options(kw, msg):
    with pytest.raises(AfroadvError, match=msg):
        Augmenter(**{"copies": 1, **kw})


# ----------------------------------------------------------------------------- data


def test_stsb_scores_are_normalised(stsb_file):
    from afroadv.train import load_train_data

    d = load_train_data(str(stsb_file))
    assert d.info["score_scale"] == 5.0 and len(d.pairs) == 24
    assert d.scores == [p.score / 5 for p in d.pairs] and max(d.scores) == 1.0
    sub = load_train_data(str(stsb_file.parent), limit=10, seed=4)  # a folder holding sts-train.csv
    assert len(sub.pairs) == 10 and sub.info["subset"]["n"] == 10
    assert [p.id for p in load_train_data(str(stsb_file), limit=10, seed=4).pairs] == [p.id for p in sub.pairs]


def test_generic_file_scores_and_errors(tmp_path):
    from afroadv.train import load_train_data

    f = tmp_path / "pairs.jsonl"
    f.write_text("\n".join(json.dumps({"sentence1": a, "sentence2": b, "score": 0.5}) for a, b in SENTENCES) + "\n")
    d = load_train_data(str(f))
    assert d.info["score_scale"] == 1.0 and d.scores == [0.5] * len(SENTENCES)
    g = tmp_path / "noscore.jsonl"
    g.write_text(json.dumps({"sentence1": "a b", "sentence2": "c d"}) + "\n")
    with pytest.raises(AfroadvError, match="gold score"):
        load_train_data(str(g))
    with pytest.raises(AfroadvError, match="not found"):
        load_train_data(str(tmp_path / "missing.tsv"))


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    r = run_cli("train", "--model", "tiny-xlmr", "--method", "adversarial", "--out", tmp_path / "m")
    assert r.returncode == 2 and "unknown method" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("train", "--model", "tiny-xlmr", "--data", tmp_path / "nope.tsv", "--out", tmp_path / "m")
    assert r.returncode == 2 and "training data not found" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("train", "--model", "tiny-xlmr", "--lr", "nan", "--out", tmp_path / "m")
    assert r.returncode == 2 and "--lr must be a finite number" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


# ----------------------------------------------------------------------------- training

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

FAST = {"max_steps": 2, "batch_size": 4, "max_seq_length": 32, "progress": False, "save_steps": 1000}


def _train(out: Path, data: Path, **kw):
    from afroadv.train import TrainOptions, train

    return train(TrainOptions(**{"model": "tiny-xlmr", "out": out, "data": str(data), "copies": 1, **FAST, **kw}))


@pytest.mark.parametrize("method,kw", [("plain", {}), ("rs-da", {"recipes": ("charnoise",)}),
                                       ("codeswitch-aug", {"langs": ("hau",)})])
def test_train_each_method_few_steps(tmp_path, stsb_file, method, kw):
    from afroadv.models import load_encoder, resolve_model

    out = tmp_path / f"m-{method}"
    info = _train(out, stsb_file, method=method, **kw)
    assert info["training"]["global_steps"] == 2
    assert info["data"]["score_scale"] == 5.0
    assert info["augmentation"]["method"] == method
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "model.safetensors" in files and "modules.json" in files and "README.md" in files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl"))]  # no pickle
    assert not (out / "checkpoints").exists()
    card = (out / "README.md").read_text()
    assert f"| method | {method} |" in card and "| seed | 0 |" in card and "transformers" in card
    saved = json.loads((out / "afroadv_train.json").read_text())
    assert saved["augmentation_stats"]["copies"] == (24 if method != "plain" else 0)
    rm = resolve_model(str(out))
    assert rm.kind == "bi"
    limits = {json.loads((out / "tokenizer_config.json").read_text()).get("model_max_length"), rm.max_seq_length}
    assert 32 not in limits and 512 in limits  # the training truncation (32) is not saved
    scores = load_encoder(rm, cache=False).score_pairs([("A man is playing.", "Mutum yana wasa.")])
    assert np.isfinite(scores).all()
    if method == "rs-da":  # the folder goes through `afroadv evaluate`'s code path
        from afroadv.evaluate import build_sets, evaluate

        doc = evaluate([str(out)], build_sets("hau", ["charnoise"], None, "test", 0, 12), n_boot=20, quiet=True)
        assert [r["recipe"] for r in doc["results"]] == ["clean", "charnoise"]


def test_version_dependent_arguments_reach_the_trainer(tmp_path):
    """transformers 5 renamed/dropped TrainingArguments fields (warmup_ratio, save_safetensors,
    gradient_checkpointing); on either stack the options must land: a 0.25 warmup over 10 steps
    is 3 steps (rounded up), and checkpointing is on."""
    pytest.importorskip("accelerate")
    from transformers import TrainingArguments

    from afroadv.train import TrainOptions, _training_args

    opts = TrainOptions(model="tiny-xlmr", out=tmp_path / "m", warmup_ratio=0.25, gradient_checkpointing=True)
    args = _training_args(TrainingArguments, opts, cuda=False, progress=False)
    assert args.get_warmup_steps(10) == 3
    assert getattr(args, "activation_checkpointing", None) or getattr(args, "gradient_checkpointing", None)


def test_train_cross_encoder(tmp_path, stsb_file):
    from afroadv.models import load_encoder, resolve_model

    out = tmp_path / "cross"
    info = _train(out, stsb_file, method="codeswitch-aug", head="cross", langs=("afr",))
    assert info["loss"] == "bce"
    rm = resolve_model(str(out))
    assert rm.kind == "cross"
    assert json.loads((out / "tokenizer_config.json").read_text()).get("model_max_length") != 32
    s = load_encoder(rm, cache=False).score_pairs([("A dog runs.", "A dog is running.")])
    assert s.shape == (1,) and 0.0 <= float(s[0]) <= 1.0


def test_resume_and_output_checks(tmp_path, stsb_file):
    out = tmp_path / "r"
    # an interrupted run: checkpoints kept, the finished marker and the model removed
    _train(out, stsb_file, method="plain", max_steps=1, save_steps=1, keep_checkpoints=True)
    assert (out / "checkpoints" / "checkpoint-1" / "model.safetensors").is_file()
    with pytest.raises(AfroadvError, match="already holds a trained model"):
        _train(out, stsb_file, method="plain")
    (out / "afroadv_train.json").unlink()
    with pytest.raises(AfroadvError, match="--resume"):
        _train(out, stsb_file, method="plain")
    with pytest.raises(AfroadvError, match="different options"):
        _train(out, stsb_file, method="plain", seed=5, resume=True)
    info = _train(out, stsb_file, method="plain", max_steps=2, resume=True)
    assert info["training"]["resumed_from"] == "checkpoint-1" and info["training"]["global_steps"] == 2
    with pytest.raises(AfroadvError, match="no checkpoint"):
        _train(tmp_path / "fresh", stsb_file, method="plain", resume=True)
    assert not (tmp_path / "fresh").exists()


def _no_work(monkeypatch):
    """Make loading data or a model fail loudly: the checks under test must come before both."""
    import afroadv.train as T

    def boom(*a, **k):
        raise AssertionError("work started before the check")

    monkeypatch.setattr(T, "load_train_data", boom)
    monkeypatch.setattr(T, "_resolve_base", boom)


@pytest.mark.parametrize("field,value,msg", [
    ("seed", -1, "--seed"), ("seed", 2**63, "--seed"), ("seed", 1.5, "--seed"),
    ("epochs", 0, "--epochs"), ("epochs", float("nan"), "--epochs"), ("epochs", float("inf"), "--epochs"),
    ("copies", 0, "--copies"), ("batch_size", 0, "--batch-size"), ("max_steps", 0, "--max-steps"),
    ("limit", 0, "--limit"), ("limit", -1, "--limit"), ("lr", 0, "--lr"), ("lr", float("inf"), "--lr"),
    ("lr", -1e-5, "--lr"), ("max_seq_length", 0, "--max-seq-length"), ("warmup_ratio", 1.0, "--warmup-ratio"),
    ("save_steps", 0, "--save-steps"), ("switch_rate", 2.0, "--switch-rate"),
    ("weight_decay", float("nan"), "weight_decay"),
])
def test_bad_options_fail_before_any_work(tmp_path, stsb_file, monkeypatch, field, value, msg):
    from afroadv.train import TrainOptions, train

    _no_work(monkeypatch)
    base = {"model": "tiny-xlmr", "out": tmp_path / "m", "data": str(stsb_file), **FAST}
    with pytest.raises(AfroadvError, match=msg) as e:
        TrainOptions(**{**base, field: value})
    assert "\n" not in str(e.value)
    opts = TrainOptions(**base)
    setattr(opts, field, value)  # a library caller changing a field after construction
    with pytest.raises(AfroadvError, match=msg):
        train(opts)
    assert not (tmp_path / "m").exists()


def test_output_folder_faults_fail_before_any_work(tmp_path, stsb_file, monkeypatch):
    import tempfile

    _no_work(monkeypatch)
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    with pytest.raises(AfroadvError, match="is a file"):
        _train(a_file, stsb_file)
    with pytest.raises(AfroadvError, match="cannot create"):
        _train(a_file / "sub", stsb_file)
    assert a_file.read_text() == "keep me"
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    with pytest.raises(AfroadvError, match="not empty"):
        _train(used, stsb_file)
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):  # root writes anyway: make the probe fail as a read-only mount would
            real = tempfile.mkstemp

            def mkstemp(*a, **k):
                if Path(k.get("dir") or "").resolve() == ro.resolve():
                    raise PermissionError(30, "Read-only file system")
                return real(*a, **k)

            monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
        with pytest.raises(AfroadvError, match="cannot write") as e:
            _train(ro / "m", stsb_file)
        assert "\n" not in str(e.value)
    finally:
        ro.chmod(0o755)
    assert not (ro / "m").exists()


def test_rerun_after_a_failed_start(tmp_path, stsb_file, monkeypatch):
    """A start that fails before its first checkpoint leaves nothing behind, and leftovers of an
    older one (run config, a half-written checkpoint) do not block the rerun."""
    import shutil

    from afroadv.models.tiny import build_tiny

    broken = tmp_path / "broken-model"
    shutil.copytree(build_tiny("xlmr"), broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    out = tmp_path / "m"
    with pytest.raises(AfroadvError, match="cannot load"):
        _train(out, stsb_file, model=str(broken))
    assert not out.exists()
    # a failure during training, before the first checkpoint: the Trainer had made OUT/checkpoints
    import afroadv.train as T

    def fail(self):
        raise RuntimeError("killed")

    with monkeypatch.context() as m:
        m.setattr(T._LossLog, "_end_step", fail)
        with pytest.raises(RuntimeError, match="killed"):
            _train(out, stsb_file)
    assert not out.exists()
    # what an older afroadv (or a kill during the first save) left: no complete checkpoint
    (out / "checkpoints" / "checkpoint-1").mkdir(parents=True)
    (out / "checkpoints" / "checkpoint-1" / "config.json").write_text("{}")
    (out / "checkpoints" / "afroadv_run.json").write_text("{}")
    with pytest.raises(AfroadvError, match="no checkpoint"):
        _train(out, stsb_file, resume=True)
    info = _train(out, stsb_file)  # the rerun, nothing deleted by hand
    assert info["training"]["global_steps"] == 2 and info["training"]["resumed_from"] is None
    assert (out / "afroadv_train.json").is_file() and not (out / "checkpoints").exists()


def test_resume_keeps_the_whole_loss_history(tmp_path, stsb_file):
    """An interrupted-and-resumed run reports the history and mean loss of an uninterrupted one."""
    import shutil

    kw = {"max_steps": 3, "save_steps": 1, "logging_steps": 1, "keep_checkpoints": True}
    whole = tmp_path / "whole"
    a = _train(whole, stsb_file, **kw)["training"]
    saved = json.loads((whole / "checkpoints" / "checkpoint-3" / "afroadv_losses.json").read_text())
    assert len(saved["step_losses"]) == 3 and None not in saved["step_losses"]
    assert a["mean_loss"] == pytest.approx(sum(saved["step_losses"]) / 3, abs=1e-5)
    assert [h["step"] for h in a["history"]] == [1, 2, 3] and a["loss_steps"] == 3
    # the same run stopped after step 2: only its checkpoint-2 (and run config) exist
    part = tmp_path / "part"
    (part / "checkpoints").mkdir(parents=True)
    shutil.copytree(whole / "checkpoints" / "checkpoint-2", part / "checkpoints" / "checkpoint-2")
    shutil.copy(whole / "checkpoints" / "afroadv_run.json", part / "checkpoints")
    b = _train(part, stsb_file, resume=True, **kw)["training"]
    assert b["resumed_from"] == "checkpoint-2" and b["global_steps"] == 3 and b["loss_steps"] == 3
    assert [h["step"] for h in b["history"]] == [1, 2, 3]
    assert b["history"][:2] == a["history"][:2]  # the steps before the interruption, kept
    resumed = json.loads((part / "checkpoints" / "checkpoint-3" / "afroadv_losses.json").read_text())
    assert resumed["step_losses"][:2] == saved["step_losses"][:2]
    assert b["mean_loss"] == pytest.approx(sum(resumed["step_losses"]) / 3, abs=1e-5)
    assert b["mean_loss"] == pytest.approx(a["mean_loss"], abs=1e-3)
    assert b["mean_loss"] > resumed["step_losses"][2] / 3 + 1e-3  # not the resumed steps' sum over all steps
    card = json.loads((part / "afroadv_train.json").read_text())["training"]
    assert card["mean_loss"] == b["mean_loss"] and card["history"] == b["history"]


def test_resume_from_a_checkpoint_without_loss_history(tmp_path):
    """A checkpoint of an older afroadv has only the Trainer's logged curve: that is kept, and the
    mean over all steps is reported as unknown rather than computed from the resumed steps alone."""
    from afroadv.train import TrainOptions, _LossLog

    ck = tmp_path / "checkpoints" / "checkpoint-4"
    ck.mkdir(parents=True)
    (ck / "trainer_state.json").write_text(json.dumps({"global_step": 4, "log_history": [
        {"step": 2, "epoch": 0.5, "loss": 1.25, "learning_rate": 1e-5}, {"step": 4, "epoch": 1.0, "loss": 0.75},
        {"step": 4, "train_loss": 1.0}]}))
    opts = TrainOptions(model="tiny-xlmr", out=tmp_path, **FAST)
    log = _LossLog.load(opts, ck)
    assert log.history == [{"step": 2, "epoch": 0.5, "loss": 1.25}, {"step": 4, "epoch": 1.0, "loss": 0.75}]
    log.step_losses += [0.5, 0.25]  # two more steps after resuming
    assert log.stats(6) == {"final_loss": 0.75, "mean_loss": None, "loss_steps": 2}
    # with our history file the whole run counts
    (ck / "afroadv_losses.json").write_text(json.dumps({"step": 4, "history": log.history,
                                                        "step_losses": [1.5, 1.0, 1.0, 0.5]}))
    log = _LossLog.load(opts, ck)
    log.step_losses += [0.5, 0.5]
    assert log.stats(6)["mean_loss"] == pytest.approx(5.0 / 6, abs=1e-5)


_CODE_SCRIPT = """
import dataclasses, json, shutil, sys
from pathlib import Path

import afroadv.train as T
from afroadv.models.tiny import build_tiny

data, tmp = sys.argv[1], Path(sys.argv[2])
src = tmp / "custom-model"
shutil.copytree(build_tiny("xlmr"), src)
(src / "custom_norm.py").write_text(
    "from sentence_transformers.models import Normalize\\n\\nclass MyNorm(Normalize):\\n    pass\\n")
mods = json.loads((src / "modules.json").read_text())
mods[-1]["type"] = "custom_norm.MyNorm"
(src / "modules.json").write_text(json.dumps(mods))
(src / "helper.py").write_text("X = 1\\n")
fast = dict(model=str(src), data=data, max_steps=1, batch_size=4, max_seq_length=32, progress=False,
            keep_checkpoints=True)
result = {}
T.train(T.TrainOptions(out=tmp / "trusted", trust_remote_code=True, **fast))
# without trust: as if a loader had run the folder's code anyway (before the loading policy refused it)
real = T._resolve_base
T._resolve_base = lambda o: dataclasses.replace(real(dataclasses.replace(o, trust_remote_code=True)),
                                                trust_remote_code=True)
T.train(T.TrainOptions(out=tmp / "untrusted", **fast))
for name in ("trusted", "untrusted"):
    out = tmp / name
    result[name] = {"code": sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.suffix == ".py"),
                    "info": json.loads((out / "afroadv_train.json").read_text())["custom_code"],
                    "card": (out / "README.md").read_text()}
print("RESULT " + json.dumps(result))
"""


def test_base_model_code_is_never_copied_unless_trusted(tmp_path, stsb_file):
    """sentence-transformers copies a custom module's .py into the saved folder; afroadv ships it
    only under trust_remote_code, and lists it in the card. (A subprocess: custom modules are
    imported through the Hugging Face modules cache, kept here in tmp_path.)"""
    import subprocess
    import sys

    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "hf-modules")}
    r = subprocess.run([sys.executable, "-c", _CODE_SCRIPT, str(stsb_file), str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(next(line for line in r.stdout.splitlines() if line.startswith("RESULT "))[7:])
    trusted, untrusted = res["trusted"], res["untrusted"]
    assert "2_MyNorm/custom_norm.py" in trusted["code"] and trusted["info"] == ["2_MyNorm/custom_norm.py"]
    assert "| custom code | copied from the base model under --trust-remote-code" in trusted["card"]
    assert "`2_MyNorm/custom_norm.py`" in trusted["card"]
    assert not any(c.endswith("helper.py") for c in trusted["code"])  # code nothing loaded is never copied
    assert untrusted["code"] == [] and untrusted["info"] == []  # not in the model, not in the checkpoints
    assert "| custom code | none |" in untrusted["card"]


def test_bf16_needs_a_gpu(tmp_path, stsb_file):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(AfroadvError, match="needs a GPU"):
        _train(tmp_path / "b", stsb_file, bf16=True)


def test_gathered_state_dict_save_path(tmp_path):
    """The FSDP save path (gathered full state dict written by rank 0) gives a loadable folder with
    the gathered weights, not the wrapper's (checked on CPU without FSDP)."""
    import torch
    from sentence_transformers import SentenceTransformer

    from afroadv.models.tiny import build_tiny
    from afroadv.train import _inner_state_dict

    model = SentenceTransformer(str(build_tiny("xlmr")), device="cpu")
    inner = model[0].auto_model
    full = {k: v.clone() for k, v in model.state_dict().items()}
    key = next(k for k in full if k.endswith("encoder.layer.0.output.dense.weight"))
    full[key] += 1.0  # what another rank's update would look like: differs from the live module
    model.save_pretrained(str(tmp_path))
    inner.save_pretrained(str(tmp_path), state_dict=_inner_state_dict(model, inner, full), safe_serialization=True)
    again = SentenceTransformer(str(tmp_path), device="cpu")
    assert torch.equal(again.state_dict()[key], full[key])
