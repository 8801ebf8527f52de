"""Size-faithful random-weight XLM-R models (`random:xlmr-*`, models/sizes.py) and bench_sizes.py.

The default tests check the published configurations, the parameter arithmetic against the real
transformers classes (on the meta device: no memory) and the build / marking / refusal machinery on
a shrunken copy of the size table; building the real sizes (GBs) is under the `benchmark` marker.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli_here

from afroadv.models import sizes

# The published config.json values (hub: FacebookAI/xlm-roberta-base, -large; facebook/xlm-roberta-xl, -xxl):
# vocabulary, hidden size, layers, heads, FFN width, encoder class.
PUBLISHED = {
    "base": (250002, 768, 12, 12, 3072, "XLMRobertaModel"),
    "large": (250002, 1024, 24, 16, 4096, "XLMRobertaModel"),
    "xl": (250880, 2560, 36, 32, 10240, "XLMRobertaXLModel"),
    "xxl": (250880, 4096, 48, 32, 16384, "XLMRobertaXLModel"),
}


def _header_params(folder: Path) -> tuple[int, set[str]]:
    """Parameters and dtypes from the safetensors headers of a folder (no weights read)."""
    total, dtypes = 0, set()
    for f in sorted(folder.glob("*.safetensors")):
        with open(f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for k, v in header.items():
            if k != "__metadata__":
                total += math.prod(v["shape"])
                dtypes.add(v["dtype"])
    return total, dtypes


def test_configurations_are_the_published_ones():
    assert sizes.sizes() == ["base", "large", "xl", "xxl"]
    for size, (vocab, hidden, layers, heads, ffn, arch) in PUBLISHED.items():
        cfg = sizes.random_config(f"random:xlmr-{size}")
        assert (cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
                cfg["intermediate_size"], cfg["architectures"][0]) == (vocab, hidden, layers, heads, ffn, arch)
        assert cfg["max_position_embeddings"] == 514 and cfg["type_vocab_size"] == 1 and cfg["layer_norm_eps"] == 1e-5
        assert cfg["afroadv_random"] is True
    counts = {s: sizes.param_counts(sizes.random_config(s))["total"] for s in PUBLISHED}
    assert counts["base"] == 278_043_648  # the published "278M" (pooler included)
    assert 555e6 < counts["large"] < 565e6 and 3.4e9 < counts["xl"] < 3.6e9 and 10.6e9 < counts["xxl"] < 10.8e9


def test_parameter_arithmetic_matches_the_transformers_classes():
    from afroadv.models.tiny import _param_shapes

    # one of each class, built on the meta device; XL with 3 of its 36 layers (the count is linear in layers)
    for cfg in (sizes.random_config("base"), {**sizes.random_config("xl"), "num_hidden_layers": 3}):
        assert sum(math.prod(s) for s in _param_shapes(cfg).values()) == sizes.param_counts(cfg)["total"]


def test_unknown_size_is_one_line():
    from afroadv.errors import AfroadvError

    with pytest.raises(AfroadvError, match="unknown size 'random:xlmr-huge'"):
        sizes.size_of("random:xlmr-huge")


@pytest.fixture()
def small_sizes(monkeypatch, module_cache):
    """The size table with every size shrunk to toy dimensions (real vocabulary and tokenizer), so the
    build, resolve, evaluate and refusal paths run in seconds; xl keeps its class and bf16 storage."""
    real = sizes._facts()
    fake = {**real, "sizes": {s: {**v, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                                  "intermediate_size": 64} for s, v in real["sizes"].items()}}
    monkeypatch.setattr(sizes, "_facts", lambda: fake)
    return module_cache


def test_build_writes_shards_deterministically_and_marks_the_model(small_sizes, tmp_path):
    cfg = sizes.random_config("xl")
    a = sizes.build_random("xl", dest=tmp_path / "a", shard_bytes=4 << 20)  # the 250880 x 32 table alone is 16 MB
    files = sorted(p.name for p in a.glob("*.safetensors"))
    assert len(files) > 1 and (a / "model.safetensors.index.json").is_file()
    index = json.loads((a / "model.safetensors.index.json").read_text(encoding="utf-8"))
    assert set(index["weight_map"].values()) == set(files)
    n, dtypes = _header_params(a)
    assert n == sizes.param_counts(cfg)["total"] and dtypes == {"BF16"}
    assert json.loads((a / "config.json").read_text(encoding="utf-8"))["afroadv_random"] is True
    assert "afroadv_random: true" in (a / "README.md").read_text(encoding="utf-8")

    def digest(folder):
        return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in files}

    first = digest(a)
    assert sizes.build_random("xl", dest=a, shard_bytes=4 << 20) == a and digest(a) == first  # current: kept
    b = sizes.build_random("xl", dest=tmp_path / "b", shard_bytes=4 << 20, threads=1)
    assert digest(b) == first  # same seed, same bytes, whatever the threads
    c = sizes.build_random("xl", seed=1, dest=tmp_path / "c", shard_bytes=4 << 20)
    assert digest(c) != first


def test_random_results_are_marked_and_refused_beside_real_ones(small_sizes, tmp_path):
    from afroadv.evaluate import build_sets, evaluate, write_results
    from afroadv.models import resolve_model

    rm = resolve_model("random:xlmr-base")
    assert rm.random_weights and rm.identity()["random_weights"] is True and rm.model_id == "random:xlmr-base"
    assert rm.identity()["model_label"].startswith("random weights (seed 0) in the configuration of FacebookAI/xlm-roberta-base")
    assert "random_weights" not in resolve_model("tiny-xlmr").identity()

    sets = build_sets("hau", ["charnoise"], None, "test", 0, 12)
    fake = evaluate(["random:xlmr-base"], sets, n_boot=50, quiet=True)
    real = evaluate(["tiny-xlmr"], sets, n_boot=50, quiet=True)
    assert all(r["random_weights"] is True for r in fake["results"])
    assert fake["manifest"]["models"][0]["random_weights"] is True
    assert not any("random_weights" in r for r in real["results"])
    paths = {}
    for name, doc in (("fake", fake), ("real", real)):
        paths[name] = tmp_path / f"{name}.json"
        write_results(paths[name], doc)

    for args in (("check", paths["fake"], "--baseline", paths["real"]),
                 ("check", paths["real"], "--baseline", paths["fake"]),
                 ("report", paths["fake"], paths["real"], "--format", "csv", "--out", tmp_path / "rep")):
        r = run_cli_here(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("afroadv: error: cannot ") and "random-weight model random:xlmr-base" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "rep").exists() or not any((tmp_path / "rep").iterdir())
    assert run_cli_here("check", paths["fake"], "--baseline", paths["fake"]).returncode == 0  # random vs random: fine


def test_bench_sizes_extrapolates_from_the_measured_sizes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_sizes", ROOT / "benchmarks" / "bench_sizes.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def measured(size, seconds_per_token):  # a machine whose time per token is exactly 1e-12 s x non-embedding params
        c = sizes.param_counts(sizes.random_config(size))
        ne = c["total"] - c["embedding"]
        return {"size": size, "params": c["total"], "non_embedding_params": ne, "tokens": 3000, "sentences": 100,
                "tokens_per_s": 1 / seconds_per_token(ne), "sentences_per_s": 1 / (30 * seconds_per_token(ne)), "load_s": c["total"] * 1e-8, "peak_bytes": c["total"] * 4}

    rows = [measured(s, lambda ne: 1e-12 * ne) for s in ("base", "large")]
    xxl = bench.extrapolate(rows, "xxl", "float32")
    ne = sizes.param_counts(sizes.random_config("xxl"))
    assert xxl["extrapolated"] and "least squares through base, large" in xxl["how"]
    assert xxl["tokens_per_s"] == pytest.approx(1 / (1e-12 * (ne["total"] - ne["embedding"])), abs=0.05)  # rounded to 0.1
    assert xxl["peak_bytes"] == pytest.approx(ne["total"] * 4, rel=1e-6) and xxl["load_s"] == pytest.approx(ne["total"] * 1e-8, abs=0.1)
    assert "extrapolated" in bench.table(rows[:1] + [xxl]).splitlines()[-1]


# ----------------------------------------------------------------------------- benchmark marker (GBs, minutes)


@pytest.mark.benchmark
def test_real_base_builds_with_the_published_configuration(module_cache):
    from afroadv.models import resolve_model

    rm = resolve_model("random:xlmr-base")
    cfg = json.loads((Path(rm.source) / "config.json").read_text(encoding="utf-8"))
    assert (cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
            cfg["intermediate_size"]) == PUBLISHED["base"][:5]
    assert rm.params == _header_params(Path(rm.source))[0] == 278_043_648


@pytest.mark.benchmark
def test_bench_sizes_runs_base_and_large(module_cache, tmp_path):
    out = tmp_path / "sizes.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_sizes.py"), "--sizes", "base,large",
                        "--sentences", "8", "--threads", "1", "--json", str(out)],
                       capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = {row["size"]: row for row in json.loads(out.read_text(encoding="utf-8"))["sizes"]}
    for size in ("base", "large"):
        assert not rows[size].get("extrapolated") and rows[size]["tokens_per_s"] > 0 and rows[size]["peak_bytes"] > 0
    assert rows["base"]["params"] == 278_043_648 and rows["large"]["params"] > rows["base"]["params"]
    assert rows["xl"]["extrapolated"] and rows["xxl"]["extrapolated"] and "extrapolated" in r.stdout


def test_a_build_that_cannot_write_is_one_line(tmp_path, monkeypatch):
    """Disk full or an unwritable cache: an AfroadvError naming the space needed, not a traceback."""
    import afroadv.models.sizes as sizes
    from afroadv.errors import AfroadvError

    def full(*args, **kwargs):  # the build folder cannot be made
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sizes, "atomic_dir", full)
    with pytest.raises(AfroadvError, match=r"cannot build random:xlmr-base .*No space left on device.*GiB free"):
        sizes.build_random("base", dest=tmp_path / "random-xlmr-base")
