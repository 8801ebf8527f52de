"""Model-loading policy and cache integrity: a model folder must not run code (custom modules,
`auto_map`, pickle weights) unless the user trusts it, and NaN/inf vectors never enter, nor come
back out of, the embedding cache.

Every folder here is a copy of a tiny test model (random weights, real XLM-R tokenizer) with one
thing changed, so each test shows exactly which file the policy reacts to. Custom code writes a
marker file when imported: a refused folder must leave no marker and no module behind.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from afroadv.errors import AfroadvError
from conftest import run_cli

pytest.importorskip("torch")
pytest.importorskip("transformers")

TEXTS = [
    "Gwamnati ta ce za ta gina sababbin makarantu a jihar Kano.",
    "Shugaban ƙasa ya ziyarci asibitin yara.",
    "Abana bagiye ku ishuri mu gitondo.",
]


pytestmark = pytest.mark.usefixtures("module_cache")  # every model and cache file in a temporary folder


def _copy_tiny(dest: Path, variant: str = "xlmr") -> Path:
    """A private copy of a tiny model folder, without its build record (so its fingerprint is
    computed from the files, as for any folder a user brings)."""
    from afroadv.models import build_tiny

    shutil.copytree(build_tiny(variant), dest, ignore=shutil.ignore_patterns("afroadv_build.json"))
    return dest


def _marker_module(folder: Path, module: str, body: str = "") -> Path:
    """Write `<module>.py` into `folder`; importing it creates `<folder>/<module>.imported`."""
    marker = folder / f"{module}.imported"
    (folder / f"{module}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n" + textwrap.dedent(body),
        encoding="utf-8")
    return marker


def _never_imported(module: str, marker: Path) -> None:
    assert not marker.exists(), f"{module} was imported"
    assert not [m for m in sys.modules if m == module or m.endswith("." + module)]


def _refused(fn, *words: str) -> str:
    with pytest.raises(AfroadvError) as e:
        fn()
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg
    return msg


def _set_modules(folder: Path, first_type: str) -> None:
    modules = json.loads((folder / "modules.json").read_text())
    modules[0]["type"] = first_type
    (folder / "modules.json").write_text(json.dumps(modules))


# ----------------------------------------------------------------------------- custom code


def test_custom_module_in_modules_json_is_refused_and_never_imported(tmp_path):
    from afroadv.models import BiEncoder, load_encoder, resolve_model

    folder = _copy_tiny(tmp_path / "custom")
    marker = _marker_module(folder, "refused_st_module", "class Evil:\n    pass\n")
    _set_modules(folder, "refused_st_module.Evil")

    for attempt in (lambda: resolve_model(str(folder)),
                    lambda: BiEncoder(str(folder), cache=None).encode(TEXTS),
                    lambda: load_encoder(str(folder), cache=None).score_pairs([(TEXTS[0], TEXTS[1])])):
        _refused(attempt, str(folder), "refused_st_module", "--trust-remote-code", "only if you trust")
    _never_imported("refused_st_module", marker)


CLI_WITH_MODEL = {
    "evaluate": lambda m, out: ["evaluate", "--model", m, "--lang", "hau", "--recipe", "charnoise", "--limit", "5",
                                "--bootstrap", "200", "--out", out / "r.json"],
    "attack": lambda m, out: ["attack", "--model", m, "--lang", "hau", "--limit", "2", "--out", out / "attack"],
    "sweep": lambda m, out: ["sweep", "--models", m, "--langs", "hau", "--recipes", "charnoise", "--limit", "5",
                             "--bootstrap", "200", "--out", out / "sweep"],
    "train": lambda m, out: ["train", "--model", m, "--limit", "8", "--max-steps", "1", "--out", out / "trained"],
}


@pytest.mark.parametrize("command", sorted(CLI_WITH_MODEL))
def test_every_command_refuses_a_folder_with_custom_code(tmp_path, module_cache, command):
    """Each command that loads a model: exit 2, one line naming the module and the switch, the
    module never imported, no output left."""
    folder = _copy_tiny(tmp_path / "custom-cli")
    module = f"refused_{command}_module"
    marker = _marker_module(folder, module, "class Evil:\n    pass\n")
    _set_modules(folder, f"{module}.Evil")
    out = tmp_path / "out"
    out.mkdir()
    r = run_cli(*CLI_WITH_MODEL[command](folder, out), env={"AFROADV_CACHE": str(module_cache)})
    assert r.returncode == 2, (r.returncode, r.stderr[-3000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("afroadv: error:"), r.stderr[-3000:]
    assert module in lines[0] and "--trust-remote-code" in lines[0]
    assert not marker.exists()
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("where", ["config.json", "tokenizer_config.json"])
def test_auto_map_is_refused_and_its_code_never_imported(tmp_path, where):
    from afroadv.models import BiEncoder, CrossEncoder, resolve_model

    for variant, cls in (("xlmr", BiEncoder), ("xlmr-cross", CrossEncoder)):
        folder = _copy_tiny(tmp_path / f"auto-map-{variant}", variant)
        module = f"modeling_refused_{variant.replace('-', '_')}_{where.split('.')[0]}"
        marker = _marker_module(folder, module, "class Evil:\n    pass\n")
        cfg = json.loads((folder / where).read_text())
        cfg["auto_map"] = ({"AutoModel": f"{module}.Evil"} if where == "config.json"
                           else {"AutoTokenizer": [None, f"{module}.Evil"]})
        (folder / where).write_text(json.dumps(cfg))
        _refused(lambda: resolve_model(str(folder)), str(folder), module, f"auto_map in {where}", "--trust-remote-code")
        _refused(lambda: cls(str(folder), cache=None).load(), module)
        _never_imported(module, marker)


def test_router_types_and_escaping_module_paths_are_refused(tmp_path):
    from afroadv.models import resolve_model

    folder = _copy_tiny(tmp_path / "router")
    modules = json.loads((folder / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Router", "type": "sentence_transformers.models.Router"})
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "3_Router").mkdir()
    (folder / "3_Router" / "router_config.json").write_text(json.dumps(
        {"types": {"query_0": "refused_router_module.Evil"}, "structure": {"query": ["query_0"]}, "parameters": {}}))
    _refused(lambda: resolve_model(str(folder)), "refused_router_module", "3_Router/router_config.json")

    folder = _copy_tiny(tmp_path / "escape")
    modules = json.loads((folder / "modules.json").read_text())
    modules[1]["path"] = "../elsewhere"
    (folder / "modules.json").write_text(json.dumps(modules))
    _refused(lambda: resolve_model(str(folder)), "outside the model folder")


def test_hub_model_in_the_local_cache_gets_the_same_checks(tmp_path, monkeypatch):
    """A hub id already in the local Hugging Face cache: custom code and pickle-only weights are
    refused from the cached files; allow_pickle loads the cached pickle."""
    from huggingface_hub import constants

    from afroadv.models import BiEncoder, resolve_model

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))

    def snapshot(repo: str) -> Path:
        commit = "0123456789abcdef0123456789abcdef01234567"
        repo_dir = tmp_path / "hub" / f"models--afroadv-test--{repo}"
        snap = _copy_tiny(repo_dir / "snapshots" / commit)
        (repo_dir / "refs").mkdir()
        (repo_dir / "refs" / "main").write_text(commit)
        return snap

    snap = snapshot("custom")
    marker = _marker_module(snap, "modeling_refused_hub", "class Evil:\n    pass\n")
    cfg = json.loads((snap / "config.json").read_text())
    cfg["auto_map"] = {"AutoModel": "modeling_refused_hub.Evil"}
    (snap / "config.json").write_text(json.dumps(cfg))
    _refused(lambda: resolve_model("afroadv-test/custom"), "hub model afroadv-test/custom", "modeling_refused_hub",
             "--trust-remote-code")
    _never_imported("modeling_refused_hub", marker)

    snap = snapshot("pickled")
    _to_pickle(snap / "model.safetensors", snap / "pytorch_model.bin")
    (snap / "model.safetensors").unlink()
    # offline, only the cached pickle could load; online the loaders would be told to fetch safetensors only
    _refused(lambda: resolve_model("afroadv-test/pickled"), "hub model afroadv-test/pickled", "pytorch_model.bin",
             "convert them to safetensors", "--allow-pickle")
    with monkeypatch.context() as online:
        online.setattr("afroadv.models.registry._hub_offline", lambda: False)
        rm = resolve_model("afroadv-test/pickled")  # (the config is cached: no network call)
    assert rm.use_safetensors is True and rm.source == "afroadv-test/pickled"
    assert rm.st_kwargs()["model_kwargs"] == {"use_safetensors": True}
    rm = resolve_model("afroadv-test/pickled", allow_pickle=True)
    assert rm.source == str(snap) and rm.use_safetensors is None
    np.testing.assert_allclose(BiEncoder(rm, cache=None).encode(TEXTS),
                               BiEncoder("tiny-xlmr", cache=None).encode(TEXTS), atol=1e-6)


def test_trusted_custom_module_loads(tmp_path):
    """With trust_remote_code=True the folder's own module runs (in a subprocess, so the imported
    module and transformers' module cache stay out of this process and the user's cache)."""
    pytest.importorskip("sentence_transformers")
    folder = _copy_tiny(tmp_path / "trusted")
    marker = _marker_module(folder, "trusted_st_module", """
        from sentence_transformers.models import Transformer

        class Wrapped(Transformer):
            '''The usual Transformer module, loaded through the folder's own code.'''
    """)
    _set_modules(folder, "trusted_st_module.Wrapped")
    code = textwrap.dedent(f"""
        import numpy as np
        from afroadv.models import BiEncoder, resolve_model
        rm = resolve_model({str(folder)!r}, trust_remote_code=True)
        assert rm.pooling is None  # a custom module: sentence-transformers runs the folder's modules
        enc = BiEncoder(rm, cache=None)
        ours = enc.encode({TEXTS!r})
        ref = BiEncoder("tiny-xlmr", cache=None).encode({TEXTS!r})
        assert type(enc._st[0]).__name__ == "Wrapped", type(enc._st[0])
        np.testing.assert_allclose(ours, ref, atol=1e-5)
        print("ok")
    """)
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "hf-modules")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip().endswith("ok"), r.stderr[-2000:]
    assert marker.read_text() == "imported"


# ----------------------------------------------------------------------------- pickle weights


def _to_pickle(safetensors_file: Path, dest: Path) -> None:
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(str(safetensors_file)), dest)


@pytest.mark.parametrize("name", ["pytorch_model.bin", "pytorch_model-00001-of-00002.bin", "model.pt",
                                  "weights.pth", "state.pkl", "last.ckpt", "MODEL.PT"])
def test_pickle_file_names(name):
    from afroadv.models.policy import is_pickle_weights

    assert is_pickle_weights(name)


@pytest.mark.parametrize("name", ["model.safetensors", "training_args.bin", "tokenizer.json", "config.json"])
def test_not_pickle_file_names(name):
    from afroadv.models.policy import is_pickle_weights

    assert not is_pickle_weights(name)


def test_pickle_weights_are_refused_unless_allowed(tmp_path):
    from afroadv.models import BiEncoder, CrossEncoder, build_tiny, load_encoder, resolve_model

    folder = _copy_tiny(tmp_path / "pickled")
    _to_pickle(folder / "model.safetensors", folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    for attempt in (lambda: resolve_model(str(folder)), lambda: BiEncoder(str(folder), cache=None),
                    lambda: load_encoder(str(folder), cache=None)):
        _refused(attempt, str(folder), "pytorch_model.bin", "convert them to safetensors", "--allow-pickle")
    rm = resolve_model(str(folder), allow_pickle=True)
    assert rm.allow_pickle and rm.use_safetensors is None
    ref = BiEncoder("tiny-xlmr", cache=None).encode(TEXTS)
    np.testing.assert_allclose(BiEncoder(str(folder), cache=None, allow_pickle=True).encode(TEXTS), ref, atol=1e-6)
    np.testing.assert_allclose(load_encoder(str(folder), cache=None, allow_pickle=True).encode(TEXTS), ref, atol=1e-6)

    # an allowed folder that is swapped for a pickle after resolving is checked again at load time
    swapped = _copy_tiny(tmp_path / "swapped")
    rm = resolve_model(str(swapped))
    _to_pickle(swapped / "model.safetensors", swapped / "pytorch_model.bin")
    (swapped / "model.safetensors").unlink()
    _refused(lambda: BiEncoder(rm, cache=None).load(), "pytorch_model.bin", "--allow-pickle")

    # the cross-encoder (sentence-transformers' loader) follows the same rule
    cross = _copy_tiny(tmp_path / "pickled-cross", "xlmr-cross")
    _to_pickle(cross / "model.safetensors", cross / "pytorch_model.bin")
    (cross / "model.safetensors").unlink()
    _refused(lambda: CrossEncoder(str(cross), cache=None), "pytorch_model.bin", "--allow-pickle")
    pairs = [(TEXTS[0], TEXTS[1])]
    np.testing.assert_allclose(CrossEncoder(str(cross), cache=None, allow_pickle=True).score_pairs(pairs),
                               CrossEncoder(str(build_tiny("xlmr-cross")), cache=None).score_pairs(pairs), atol=1e-6)

    # a sentence-transformers module folder (Dense) holding only a pickle is refused too
    dense = _copy_tiny(tmp_path / "pickled-dense")
    modules = json.loads((dense / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (dense / "modules.json").write_text(json.dumps(modules))
    (dense / "2_Dense").mkdir()
    (dense / "2_Dense" / "config.json").write_text(json.dumps({"in_features": 32, "out_features": 32, "bias": True}))
    (dense / "2_Dense" / "pytorch_model.bin").write_bytes(b"not loaded")
    _refused(lambda: resolve_model(str(dense)), "2_Dense/pytorch_model.bin", "--allow-pickle")


@pytest.mark.parametrize("backend", ["transformers", "sentence-transformers"])
def test_safetensors_win_over_pickle_beside_them(tmp_path, backend):
    """Both kinds in one folder: not an error, and the pickle (here: other weights) is never read."""
    if backend == "sentence-transformers":
        pytest.importorskip("sentence_transformers")
    from afroadv.models import BiEncoder, build_tiny, resolve_model

    folder = _copy_tiny(tmp_path / "both")
    other = build_tiny("xlmr", seed=1)
    _to_pickle(other / "model.safetensors", folder / "pytorch_model.bin")
    (folder / "optimizer.pt").write_bytes(b"a checkpoint's optimizer state, never loaded")
    rm = resolve_model(str(folder))
    assert rm.use_safetensors is True and not rm.allow_pickle
    ours = BiEncoder(rm, cache=None, backend=backend).encode(TEXTS)
    np.testing.assert_allclose(ours, BiEncoder("tiny-xlmr", cache=None).encode(TEXTS), atol=1e-5)
    assert not np.allclose(ours, BiEncoder(str(other), cache=None).encode(TEXTS), atol=1e-3)
    assert BiEncoder(rm, cache=None).resolved.weights_kwargs() == {"use_safetensors": True}


# ----------------------------------------------------------------------------- cache integrity


def _nan_model(dest: Path) -> Path:
    """A tiny model whose embedding LayerNorm weight is NaN: every embedding it makes is NaN."""
    from safetensors.numpy import load_file, save_file

    folder = _copy_tiny(dest)
    weights = load_file(str(folder / "model.safetensors"))
    key = next(k for k in weights if k.endswith("embeddings.LayerNorm.weight"))
    weights[key] = np.full_like(weights[key], np.nan)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def test_a_model_that_makes_nan_raises_and_caches_nothing(tmp_path, cache):
    from afroadv.models import BiEncoder

    enc = BiEncoder(str(_nan_model(tmp_path / "nan")), cache=cache)
    _refused(lambda: enc.encode(TEXTS), "produced non-finite embeddings for 3 of 3 texts (first: ")
    assert cache.stats()["on_disk"] == 0 and cache.stats()["in_memory"] == 0
    _refused(lambda: BiEncoder(enc.resolved, cache=None).encode(TEXTS), "non-finite")


def test_one_nan_row_keeps_the_whole_batch_out_of_the_cache(cache, monkeypatch):
    from afroadv.models import BiEncoder

    enc = BiEncoder("tiny-xlmr", cache=cache)
    real = enc._encode_uncached

    def one_nan(texts):
        out = real(texts).copy()
        out[1] = np.nan
        return out

    monkeypatch.setattr(enc, "_encode_uncached", one_nan)
    msg = _refused(lambda: enc.encode(TEXTS), "tiny-xlmr produced non-finite embeddings for 1 of 3 texts")
    assert repr(TEXTS[1]) in msg
    assert cache.get_many(enc.namespace, TEXTS) == {} and cache.stats()["on_disk"] == 0
    monkeypatch.setattr(enc, "_encode_uncached", real)
    good = enc.encode(TEXTS)  # the next, correct run computes (and stores) real vectors
    assert np.isfinite(good).all() and cache.stats()["on_disk"] == 3
    with pytest.raises(AfroadvError, match="non-finite"):
        cache.put_many(enc.namespace, ["x", "y"], np.array([[1.0, 0.0], [np.inf, 0.0]], dtype=np.float32))
    assert cache.get_many(enc.namespace, ["x", "y"]) == {}


def test_bad_rows_planted_in_the_database_are_misses_and_are_deleted(tmp_path):
    from afroadv.models import BiEncoder, EmbeddingCache
    from afroadv.models.cache import text_key

    path = tmp_path / "planted.sqlite3"
    first = EmbeddingCache(path)
    clean = BiEncoder("tiny-xlmr", cache=first).encode(TEXTS)
    ns = BiEncoder("tiny-xlmr", cache=first).namespace
    first.close()

    db = sqlite3.connect(str(path))
    (ns_id,) = db.execute("SELECT id FROM namespaces WHERE name=?", (ns,)).fetchone()
    nan = np.full(32, np.nan, dtype=np.float32).tobytes()
    db.execute("UPDATE vectors SET vec=? WHERE ns=? AND key=?", (nan, ns_id, text_key(TEXTS[0])))
    short = np.ones(16, dtype=np.float32) / 4  # finite, self-consistent, but not this model's width
    db.execute("UPDATE vectors SET dim=16, vec=? WHERE ns=? AND key=?", (short.tobytes(), ns_id, text_key(TEXTS[1])))
    db.commit()
    db.close()

    disk = EmbeddingCache(path)
    enc = BiEncoder("tiny-xlmr", cache=disk)
    again = enc.encode(TEXTS)
    np.testing.assert_allclose(again, clean, atol=1e-6)
    assert (disk.hits, disk.misses) == (1, 2) and enc.texts_encoded == 2
    disk.close()
    db = sqlite3.connect(str(path))
    rows = db.execute("SELECT dim, vec FROM vectors WHERE ns=?", (ns_id,)).fetchall()
    db.close()
    assert len(rows) == 3 and all(d == 32 and np.isfinite(np.frombuffer(v, np.float32)).all() for d, v in rows)

    # a planted row is also dropped when nothing recomputes it (a plain lookup)
    db = sqlite3.connect(str(path))
    db.execute("UPDATE vectors SET vec=? WHERE ns=? AND key=?", (nan, ns_id, text_key(TEXTS[2])))
    db.commit()
    db.close()
    lookup = EmbeddingCache(path)
    assert set(lookup.get_many(ns, TEXTS)) == set(TEXTS[:2])
    assert lookup.stats()["on_disk"] == 2
    lookup.close()

    # a database written before widths were recorded: the width most rows have decides
    refill = EmbeddingCache(path)
    BiEncoder("tiny-xlmr", cache=refill).encode(TEXTS)
    refill.close()
    db = sqlite3.connect(str(path))
    db.execute("UPDATE namespaces SET info=NULL WHERE id=?", (ns_id,))
    db.execute("UPDATE vectors SET dim=16, vec=? WHERE ns=? AND key=?", (short.tobytes(), ns_id, text_key(TEXTS[0])))
    db.commit()
    db.close()
    old = EmbeddingCache(path)
    assert set(old.get_many(ns, TEXTS)) == set(TEXTS[1:])
    old.close()


def test_cross_encoder_scores_are_checked_too(tmp_path, cache, monkeypatch):
    pytest.importorskip("sentence_transformers")
    from afroadv.models import CrossEncoder

    ce = CrossEncoder("tiny-xlmr-cross", cache=cache)
    monkeypatch.setattr(ce, "_score_uncached", lambda keys: np.full((len(keys), 1), np.nan, dtype=np.float32))
    _refused(lambda: ce.score_pairs([(TEXTS[0], TEXTS[1])]), "produced non-finite scores for 1 of 1 pairs")
    assert cache.stats()["on_disk"] == 0


# ----------------------------------------------------------------------------- small things


def test_fingerprint_memo_temp_file_is_not_predictable(tmp_path):
    """A symlink planted at the old fixed temp name (fingerprints.<pid>.tmp) is never written through."""
    from afroadv.models import _files

    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    memo = _files._memo_path()
    memo.parent.mkdir(parents=True, exist_ok=True)
    planted = memo.with_suffix(f".{os.getpid()}.tmp")
    planted.symlink_to(victim)
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"\0" * 1024)
    try:
        digest = _files._big_file_sha(weights)
    finally:
        planted.unlink()
    assert victim.read_text() == "untouched"
    assert digest in json.loads(memo.read_text()).values()
    assert not [p for p in memo.parent.iterdir() if p.name.endswith(".tmp")]


def test_pick_device_uses_the_shared_device_check():
    from afroadv.models.encoders import pick_device

    assert pick_device("CPU") == "cpu"
    assert pick_device(None) in ("cpu", "cuda")
    _refused(lambda: pick_device("gpu"), "--device", "unknown device")
    _refused(lambda: pick_device("cpu:1"), "--device")
