"""Tiny randomly initialised XLM-R models with the real XLM-R tokenizer, for tests.

Why: no XLM-R weights install offline, yet the evaluation code must be exercised end to end on the
two architecture classes it meets in practice: `XLMRobertaModel` (base/large, AfroXLMR) and the
pre-layer-norm `XLMRobertaXLModel` that xlm-roberta-xl/xxl load as. The tokenizer is the real
250002-piece one, so tokenisation of African-language text (and its failure modes) is realistic;
only the weights are random. Weights come from numpy's seeded generator per tensor name, so a seed
gives the same bytes on every machine and torch version.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from afroadv.errors import AfroadvError
from afroadv.models._files import (
    BUILD_INFO,
    atomic_dir,
    files_sha,
    models_dir,
    read_build_info,
    write_json,
    write_mean_pooling_modules,
    write_xlmr_tokenizer,
)

BUILDER_VERSION = 2  # 2: tokenizer_config.json lists the added tokens (faster loads)

# variant -> (architecture, model_type, pre-layer-norm eps, head)
VARIANTS = {
    "xlmr": ("XLMRobertaModel", "xlm-roberta", 1e-5, "bi"),
    "xlmr-xl": ("XLMRobertaXLModel", "xlm-roberta-xl", 1e-5, "bi"),
    "xlmr-cross": ("XLMRobertaForSequenceClassification", "xlm-roberta", 1e-5, "cross"),
}


def tiny_config(variant: str, *, hidden: int = 32, layers: int = 2, heads: int = 2) -> dict:
    """The config.json of a tiny model: real XLM-R vocabulary and positions, toy width and depth."""
    arch, model_type, eps, head = VARIANTS[variant]
    cfg = {
        "architectures": [arch],
        "model_type": model_type,
        "vocab_size": 250002,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": hidden * 2,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "initializer_range": 0.02,
        "layer_norm_eps": eps,
        "position_embedding_type": "absolute",
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
        # transformers 4.57.3+ warns about a "mistral regex" when a local config names a version in
        # (4.57.2, 5.0); naming the oldest version we support keeps loading quiet.
        "transformers_version": "4.44.0",
    }
    if head == "cross":
        cfg.update(num_labels=1, id2label={"0": "LABEL_0"}, label2id={"LABEL_0": 0})
    return cfg


def _param_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes, taken from the real transformers class built on the meta device
    (no memory, no init), so the saved file loads without missing or unexpected keys."""
    import torch
    import transformers

    config_cls = transformers.AutoConfig.for_model(cfg["model_type"]).__class__
    config = config_cls(**{k: v for k, v in cfg.items() if k not in {"architectures", "model_type", "transformers_version"}})
    model_cls = getattr(transformers, cfg["architectures"][0])
    with torch.device("meta"):
        model = model_cls(config)
    return {n: tuple(p.shape) for n, p in model.named_parameters()}


_CHUNK = 1 << 22  # values drawn per call: bounds the float64 scratch memory for any tensor size


def init_tensor(name: str, shape: tuple[int, ...], seed: int, std: float) -> np.ndarray:
    """One parameter as transformers initialises it: layer norms 1 (weight) / 0 (bias), other biases
    0, every other tensor normal(0, std) from a generator of its own (seed, name), with the padding
    row of the embeddings zeroed. Drawn in flat chunks from that one generator (the same values as
    one call) with the GIL released, so tensors can be drawn on several threads at once."""
    if "LayerNorm" in name or "layer_norm" in name:
        return np.ones(shape, np.float32) if name.endswith("weight") else np.zeros(shape, np.float32)
    if name.endswith(".bias"):
        return np.zeros(shape, np.float32)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    out = np.empty(shape, np.float32)
    flat = out.reshape(-1)
    scratch = np.empty(min(_CHUNK, flat.size), np.float64)
    for a in range(0, flat.size, _CHUNK):
        buf = scratch[:min(_CHUNK, flat.size - a)]
        rng.standard_normal(out=buf)
        np.multiply(buf, std, out=flat[a:a + buf.size], casting="same_kind")
    if name.endswith(("word_embeddings.weight", "position_embeddings.weight")):
        out[1] = 0.0  # padding_idx row, as transformers initialises it
    return out


def tiny_dir(variant: str = "xlmr", seed: int = 0) -> Path:
    return models_dir() / f"tiny-{variant}-seed{seed}"


def build_tiny(variant: str = "xlmr", seed: int = 0, dest: Path | None = None, *, force: bool = False,
               hidden: int = 32, layers: int = 2, heads: int = 2) -> Path:
    """Return the folder of a tiny model, building it first if needed (a second or two).

    Bi-encoder variants are sentence-transformers folders (Transformer + mean Pooling + Normalize);
    the cross variant is a plain sequence-classification folder with one regression output, which
    is what sentence-transformers' CrossEncoder loads."""
    if variant not in VARIANTS:
        raise AfroadvError(f"unknown tiny model variant {variant!r}; choose from {', '.join(VARIANTS)}")
    dims = (hidden, layers, heads)
    dest = Path(dest) if dest is not None else (
        tiny_dir(variant, seed) if dims == (32, 2, 2) else models_dir() / f"tiny-{variant}-seed{seed}-h{hidden}l{layers}a{heads}"
    )
    info = read_build_info(dest)
    if (not force and info and info.get("builder_version") == BUILDER_VERSION and info.get("seed") == seed
            and info.get("variant") == variant and (dest / "model.safetensors").is_file()):
        return dest
    from safetensors.numpy import save_file

    cfg = tiny_config(variant, hidden=hidden, layers=layers, heads=heads)
    weights = {name: init_tensor(name, shape, seed, cfg["initializer_range"]) for name, shape in _param_shapes(cfg).items()}
    if dest.exists():
        import shutil

        shutil.rmtree(dest)
    with atomic_dir(dest) as tmp:
        save_file(weights, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        write_json(tmp / "config.json", cfg)
        origin = write_xlmr_tokenizer(tmp, model_max_length=512)
        names = ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"]
        if VARIANTS[variant][3] == "bi":
            names += write_mean_pooling_modules(tmp, hidden)
        write_json(tmp / BUILD_INFO, {
            "builder": "tiny",
            "builder_version": BUILDER_VERSION,
            "variant": variant,
            "seed": seed,
            "architecture": cfg["architectures"][0],
            "tokenizer": origin,
            "note": "randomly initialised test model: its scores mean nothing",
            "fingerprint": files_sha(tmp, names, extra=f"tiny|{variant}|{seed}"),
        })
    return dest
