"""Size-faithful XLM-R models with random weights (`random:xlmr-base` … `random:xlmr-xxl`), for speed
and memory only.

Why: the real base/large/XL/XXL checkpoints (1 GB to 43 GB) cannot be downloaded everywhere, yet
how long each size takes to load and encode, and how much memory it needs, depend only on its
architecture. These models have each checkpoint's real configuration (data/models/xlmr-sizes.yaml,
read from the hub's config.json files), the real XLM-R tokenizer, and seeded random weights drawn
per tensor like the tiny test models (models/tiny.py), so a seed gives the same bytes everywhere.
Their scores mean nothing: config.json carries `afroadv_random: true`, results rows and manifests
carry `random_weights: true`, and `check` / `report` refuse to mix them with real models.

Building never holds the whole model: tensors are drawn (on several threads), cast to the storage
dtype and written shard by shard (at most `shard_bytes` per file, plus one tensor in flight per
thread), so XL (3.5 B parameters, 7 GB in bf16) builds in a few GB of memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.models._files import (
    BUILD_INFO,
    atomic_dir,
    models_dir,
    read_build_info,
    write_json,
    write_mean_pooling_modules,
    write_xlmr_tokenizer,
)
from afroadv.resources import data_dir, sha256_file

BUILDER_VERSION = 2  # 2: tokenizer_config.json lists the added tokens (faster loads)
PREFIX = "random:xlmr-"
SHARD_BYTES = 2 << 30
_ITEMSIZE = {"float32": 4, "bfloat16": 2}


@lru_cache(maxsize=None)
def _facts() -> dict:
    import yaml

    path = data_dir() / "models" / "xlmr-sizes.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise AfroadvError(f"cannot read {path}: {e.strerror or e}") from None


def sizes() -> list[str]:
    """base, large, xl, xxl: the sizes the data file describes, smallest first."""
    return list(_facts()["sizes"])


def size_of(name: str) -> str:
    """`random:xlmr-xl` (or `xl`) -> `xl`; one-line error for anything else."""
    size = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if size not in _facts()["sizes"]:
        raise AfroadvError(f"unknown size {name!r}; choose from {', '.join(PREFIX + s for s in sizes())}")
    return size


def hub_id(size: str) -> str:
    return _facts()["sizes"][size_of(size)]["hub_id"]


def storage_dtype(size: str) -> str:
    return _facts()["sizes"][size_of(size)]["storage"]


def random_config(size: str) -> dict:
    """config.json of the size: the published checkpoint's architecture, our encoder class
    (XLMRobertaModel / XLMRobertaXLModel: no masked-LM head, as afroadv loads them), the mark."""
    facts = _facts()
    s = facts["sizes"][size_of(size)]
    return {
        "architectures": [s["architecture"]],
        "model_type": s["model_type"],
        "vocab_size": s["vocab_size"],
        "hidden_size": s["hidden_size"],
        "num_hidden_layers": s["num_hidden_layers"],
        "num_attention_heads": s["num_attention_heads"],
        "intermediate_size": s["intermediate_size"],
        **facts["common"],
        # published configs say float32; transformers 5 loads "auto" from it, so fp32 unless asked
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",  # see models/tiny.py: keeps 4.57's tokenizer warning quiet
        "afroadv_random": True,
        "afroadv_random_of": s["hub_id"],
    }


def param_counts(cfg: dict) -> dict[str, int]:
    """Parameters of the encoder (pooler included) from its config alone, no torch: `total` and
    `embedding` (word + position + token-type tables, which cost memory but no compute). The same
    count holds for both classes: XL moves the embeddings' layer norm to the end of the encoder."""
    h, i, n = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    embedding = (cfg["vocab_size"] + cfg["max_position_embeddings"] + cfg["type_vocab_size"]) * h
    layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h  # q k v o, FFN in/out, two layer norms
    return {"total": embedding + 2 * h + n * layer + h * h + h, "embedding": embedding}


def random_dir(size: str, seed: int = 0) -> Path:
    return models_dir() / f"random-xlmr-{size_of(size)}-seed{seed}"


def describe(size: str, seed: int) -> dict:
    """How results and cards name the model (see ResolvedModel.identity)."""
    return {"label": f"random weights (seed {seed}) in the configuration of {hub_id(size)}",
            "weights": None, "derived_from": None}


def describe_build(info: dict) -> dict:
    return describe(info["size"], int(info.get("seed", 0)))


def _shards(shapes: dict[str, tuple[int, ...]], itemsize: int, shard_bytes: int) -> list[list[str]]:
    groups, cur, used = [], [], 0
    for name, shape in shapes.items():
        nbytes = itemsize
        for d in shape:
            nbytes *= d
        if cur and used + nbytes > shard_bytes:
            groups.append(cur)
            cur, used = [], 0
        cur.append(name)
        used += nbytes
    return groups + [cur] if cur else groups


def _is_current(dest: Path, size: str, seed: int) -> bool:
    info = read_build_info(dest)
    if not (info and info.get("builder") == "random" and info.get("builder_version") == BUILDER_VERSION
            and info.get("size") == size and info.get("seed") == seed and info.get("config") == random_config(size)):
        return False
    return all((dest / f).is_file() for f in info.get("weights_files", [])) and bool(info.get("weights_files"))


def build_random(size: str, seed: int = 0, dest: Path | None = None, *, force: bool = False,
                 shard_bytes: int = SHARD_BYTES, threads: int | None = None) -> Path:
    """Return the folder of `random:xlmr-<size>` for `seed`, building it first if needed.

    Time and disk: base ≈ 1.1 GB (fp32), large 2.2 GB (fp32), XL 7 GB and XXL 21 GB (bf16); about a
    minute per billion parameters and thread. The folder is written atomically (see atomic_dir)."""
    import torch
    from safetensors.torch import save_file

    from afroadv.models.tiny import _param_shapes, init_tensor

    size = size_of(size)
    dest = Path(dest) if dest is not None else random_dir(size, seed)
    if not force and _is_current(dest, size, seed):
        return dest
    cfg = random_config(size)
    storage = storage_dtype(size)
    shapes = _param_shapes(cfg)
    groups = _shards(shapes, _ITEMSIZE[storage], shard_bytes)
    files = (["model.safetensors"] if len(groups) == 1 else
             [f"model-{k + 1:05d}-of-{len(groups):05d}.safetensors" for k in range(len(groups))])
    tdtype = getattr(torch, storage)
    std = cfg["initializer_range"]

    def draw(name: str):
        return name, torch.from_numpy(init_tensor(name, shapes[name], seed, std)).to(tdtype)

    if dest.exists():
        import shutil

        shutil.rmtree(dest)
    workers = max(1, threads or min(8, os.cpu_count() or 1))
    try:
        total_bytes = 0
        with atomic_dir(dest) as tmp, ThreadPoolExecutor(workers) as pool:
            weight_map = {}
            for fname, names in zip(files, groups):
                shard = dict(pool.map(draw, names))
                total_bytes += sum(t.numel() * t.element_size() for t in shard.values())
                save_file(shard, str(tmp / fname), metadata={"format": "pt"})
                del shard
                weight_map.update({n: fname for n in names})
            if len(files) > 1:
                write_json(tmp / "model.safetensors.index.json",
                           {"metadata": {"total_size": total_bytes}, "weight_map": weight_map})
            write_json(tmp / "config.json", cfg)
            origin = write_xlmr_tokenizer(tmp, model_max_length=512)
            write_mean_pooling_modules(tmp, cfg["hidden_size"])
            counts = param_counts(cfg)
            (tmp / "README.md").write_text(_card(size, seed, counts, storage), encoding="utf-8")
            # The weights are a pure function of (builder version, config, seed, storage dtype), so the
            # fingerprint is computed from those and the tokenizer instead of hashing gigabytes.
            ident = json.dumps({"builder": "random", "version": BUILDER_VERSION, "config": cfg, "seed": seed,
                                "storage": storage, "tokenizer": sha256_file(tmp / "tokenizer.json")}, sort_keys=True)
            write_json(tmp / BUILD_INFO, {
                "builder": "random",
                "builder_version": BUILDER_VERSION,
                "size": size,
                "seed": seed,
                "random_weights": True,
                "config_of": cfg["afroadv_random_of"],
                "architecture": cfg["architectures"][0],
                "parameters": counts["total"],
                "config": cfg,
                "storage_dtype": storage,
                "weights_files": files,
                "tokenizer": origin,
                "note": "random weights in a real configuration: for speed and memory only; its scores mean nothing",
                "fingerprint": hashlib.sha256(ident.encode()).hexdigest()[:32],
            })
    except OSError as e:  # disk full, unwritable cache: one line, with the size it needs
        need = param_counts(cfg)["total"] * _ITEMSIZE[storage] / 2**30
        raise AfroadvError(f"cannot build random:xlmr-{size} in {dest.parent} ({e.strerror or e}); "
                           f"it needs about {need:.1f} GiB free") from None
    return dest


def _card(size: str, seed: int, counts: dict, storage: str) -> str:
    return f"""---
afroadv_random: true
tags: ["afroadv", "random-weights"]
---

# random:xlmr-{size} (seed {seed}) — random weights, not a model

The architecture of [{hub_id(size)}](https://huggingface.co/{hub_id(size)}) (its config.json:
see data/models/xlmr-sizes.yaml in afroadv) with seeded random weights, built by afroadv for
speed and memory measurements. {counts['total']:,} parameters ({counts['embedding']:,} in the
embedding tables), stored as {storage}. Its embeddings and scores mean nothing: afroadv marks
every result made with it (`random_weights: true`) and `afroadv check` / `afroadv report` refuse
to compare or mix them with results of real models.
"""
