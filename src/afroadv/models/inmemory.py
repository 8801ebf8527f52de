"""Encoders for models already in memory: a sentence-transformers `SentenceTransformer` or
`CrossEncoder` object, any object with `.encode(list[str]) -> array`, or a plain function.

Why no persistent cache: an object in memory has no folder to fingerprint, so nothing honest can
say that a vector stored today belongs to the object given tomorrow; within one evaluate call every
unique text is still encoded once. Why a description rather than a model id: the object may be
fine-tuned, quantised or built by hand, so results record its class and what it says about itself
(sentence-transformers' model card data, the path it was loaded from), never a hub id it may not be.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

import numpy as np

from afroadv.errors import AfroadvError
from afroadv.models.encoders import _ce_prompt_kwargs, _check_finite, _NO_ST_PROMPT
from afroadv.options import check_count

IN_MEMORY = "in-memory"  # the fingerprint of every in-memory model: never a cache key


def _st_class(model, name: str) -> bool:
    """Is `model` a sentence-transformers `name` (checked without importing the package)?"""
    st = sys.modules.get("sentence_transformers")
    cls = getattr(st, name, None) if st is not None else None
    return cls is not None and isinstance(model, cls)


def is_in_memory(model) -> bool:
    """A model object or function rather than a name (alias, folder, hub id)."""
    return not isinstance(model, (str, os.PathLike))


def _default_prompt(model) -> str:
    """The object's own default prompt (sentence-transformers `prompts[default_prompt_name]`), else ''."""
    name = getattr(model, "default_prompt_name", None)
    prompts = getattr(model, "prompts", None) or {}
    return prompts.get(name, "") if name and isinstance(prompts, dict) else ""


def describe(model) -> dict:
    """What an in-memory model says about itself, for the results manifest."""
    cls = type(model)
    out: dict = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    if not hasattr(model, "encode") and not hasattr(model, "predict"):
        out["function"] = f"{getattr(model, '__module__', '?')}.{getattr(model, '__qualname__', repr(model))}"
    card = getattr(model, "model_card_data", None)
    if card is not None:
        info = {k: getattr(card, k, None) for k in ("model_name", "model_id", "base_model", "base_model_revision")}
        out["model_card_data"] = {k: v for k, v in info.items() if isinstance(v, str) and v}
    first = model[0] if _st_class(model, "SentenceTransformer") and len(model) else model
    config = getattr(getattr(first, "auto_model", None) or getattr(model, "model", None), "config", None)
    loaded_from = getattr(config, "_name_or_path", None)
    if isinstance(loaded_from, str) and loaded_from:
        out["loaded_from"] = loaded_from  # where its weights were first read (a path or a hub id), as it says
    return out


def _short_name(model) -> str:
    if _st_class(model, "SentenceTransformer") or _st_class(model, "CrossEncoder"):
        return type(model).__name__
    return getattr(model, "__name__", None) or type(model).__name__


def _params(model) -> int | None:
    try:
        return int(sum(p.numel() for p in model.parameters()))
    except Exception:  # noqa: BLE001 - a function or an object without torch parameters
        return None


def _matrix(out, n: int, name: str) -> np.ndarray:
    """What `encode` returned (numpy, torch, lists) as an (n, dim) float32 array, or one AfroadvError."""
    if hasattr(out, "detach"):
        out = out.detach().float().cpu().numpy()
    try:
        arr = np.asarray(out, dtype=np.float32)
    except (TypeError, ValueError):
        raise AfroadvError(f"{name} returned {type(out).__name__}, not an array of vectors") from None
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] == 0:
        raise AfroadvError(f"{name} returned shape {tuple(arr.shape)} for {n} texts; it must return one vector per "
                           "text, shape (n, dim)")
    return arr


class _InMemory:
    """What both in-memory kinds share: a name, a description, no fingerprint, no persistent cache."""

    kind: str
    fingerprint = IN_MEMORY
    cache = None

    def __init__(self, model, prompt: str | None, batch_size: int, name: str | None):
        if prompt is not None and not isinstance(prompt, str):
            raise AfroadvError(f"prompt must be a string, got {type(prompt).__name__}")
        self._model = model
        self.prefix = _default_prompt(model) if prompt is None else prompt
        self.batch_size = check_count(batch_size, "batch_size")
        self.name = name or _short_name(model)
        self.model_id = f"{IN_MEMORY}:{self.name}"
        self.description = describe(model)
        self.params = _params(model)

    def identity(self) -> dict:
        """As ResolvedModel.identity: an in-memory model has no label, weights or origin of its own to claim."""
        return {"model_id": self.model_id, "model_label": self.model_id, "model_weights": None, "derived_from": None}


class InMemoryBiEncoder(_InMemory):
    """Unit-length float32 embeddings from an object's `.encode` (or a function); pairs score by cosine."""

    kind = "bi"

    def __init__(self, model, *, prompt: str | None = None, batch_size: int = 32, name: str | None = None):
        encode = getattr(model, "encode", None)
        if not callable(encode) and not callable(model):
            raise AfroadvError(f"a {type(model).__name__} cannot encode: give an alias, a folder, a hub id, a "
                               "SentenceTransformer or CrossEncoder, or a function encode(list[str]) -> array")
        super().__init__(model, prompt, batch_size, name)
        self._st = _st_class(model, "SentenceTransformer")
        self._encode = encode if callable(encode) else model
        self.texts_encoded = 0

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        texts = list(texts)
        if any(not isinstance(t, str) for t in texts):
            raise AfroadvError("encode() takes a list of strings")
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        inputs = [self.prefix + t for t in texts]
        if self._st:
            out = self._encode(inputs, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True,
                               show_progress_bar=False, **_NO_ST_PROMPT)
            arr = _matrix(out, len(texts), self.name)
        else:  # a function sees at most batch_size texts at a time, as a model would
            step = self.batch_size
            parts = [_matrix(self._encode(inputs[i:i + step]), len(inputs[i:i + step]), self.name)
                     for i in range(0, len(inputs), step)]
            if len({p.shape[1] for p in parts}) > 1:
                raise AfroadvError(f"{self.name} returned vectors of different widths in different batches")
            arr = np.concatenate(parts)
        self.texts_encoded += len(texts)
        arr = _check_finite(self.name, arr, texts, "embeddings")
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        if not (norms > 0).all():
            raise AfroadvError(f"{self.name} returned a zero vector for {texts[int(np.argmin(norms[:, 0]))][:60]!r}: "
                               "cosine similarity is undefined")
        return arr / norms

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        pairs = list(pairs)
        if not pairs:
            return np.zeros((0,), dtype=np.float32)
        emb = self.encode([p[0] for p in pairs] + [p[1] for p in pairs])
        a, b = emb[: len(pairs)], emb[len(pairs):]
        return np.clip((a * b).sum(axis=1), -1.0, 1.0).astype(np.float32)


class InMemoryCrossEncoder(_InMemory):
    """Pair scores from a sentence-transformers CrossEncoder object (its own activation)."""

    kind = "cross"

    def __init__(self, model, *, prompt: str | None = None, batch_size: int = 32, name: str | None = None):
        super().__init__(model, prompt, batch_size, name)
        self.pairs_scored = 0

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        pairs = [(self.prefix + a, self.prefix + b) for a, b in pairs]
        if not pairs:
            return np.zeros((0,), dtype=np.float32)
        import torch

        with torch.inference_mode():
            out = self._model.predict(pairs, batch_size=self.batch_size, convert_to_numpy=True,
                                      show_progress_bar=False, **_ce_prompt_kwargs(self._model))
        self.pairs_scored += len(pairs)
        scores = np.asarray(out, dtype=np.float32).reshape(len(pairs), -1)
        if scores.shape[1] != 1:
            raise AfroadvError(f"{self.name} gives {scores.shape[1]} scores per pair; a cross-encoder for "
                               "similarity needs one regression output")
        return _check_finite(self.name, scores, [f"{a} ||| {b}" for a, b in pairs], "scores")[:, 0]


def in_memory_encoder(model, *, prompt: str | None = None, batch_size: int = 32,
                      name: str | None = None) -> InMemoryBiEncoder | InMemoryCrossEncoder:
    """The adapter for a model object or function (a CrossEncoder scores pairs, anything else embeds)."""
    if _st_class(model, "CrossEncoder"):
        return InMemoryCrossEncoder(model, prompt=prompt, batch_size=batch_size, name=name)
    return InMemoryBiEncoder(model, prompt=prompt, batch_size=batch_size, name=name)


def as_model(model, *, prompt: str | None = None, batch_size: int = 32):
    """A name stays a name (the resolver handles it); an object or function becomes its adapter
    (an adapter made earlier keeps its name and takes `prompt` when one is given)."""
    if not is_in_memory(model):
        return model
    if isinstance(model, _InMemory):
        if prompt is not None:
            model.prefix = prompt
        return model
    return in_memory_encoder(model, prompt=prompt, batch_size=batch_size)
