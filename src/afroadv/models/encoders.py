"""Encoders with one interface: `score_pairs([(s1, s2), ...]) -> np.ndarray`.

`BiEncoder` embeds each sentence (mean pooling over the attention mask, L2-normalised) and scores
a pair by cosine; `CrossEncoder` scores the pair jointly with a one-output regression head
(sentence-transformers' CrossEncoder). Both sit on the embedding cache, so repeated sentences
(clean vs perturbed sets, attack queries, reruns) are computed once.

Why our own mean pooling rather than always sentence-transformers: raw XLM-R checkpoints (base to
XXL) are plain transformers folders, and for them (and for mean-pooling sentence-transformers
folders such as e5) one code path gives length-sorted batching, `torch.inference_mode()`,
half precision and `device_map="auto"` on GPU. Models with other heads (LaBSE: CLS + Dense) run
through sentence-transformers so their own modules apply.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager

import numpy as np

from afroadv.errors import AfroadvError
from afroadv.models.cache import EmbeddingCache, default_cache, namespace_name
from afroadv.models.precision import autocast, compute_context, dtype_kwargs, load_dtype, pick_device, pick_dtype
from afroadv.models.registry import ResolvedModel, check_folder_policy, download_advice, resolve_model
from afroadv.options import check_count


def _tokenizer_kwargs() -> dict:
    """Silence transformers 4.57.3+'s false "mistral regex" warning for local XLM-R tokenizers."""
    from transformers import PreTrainedTokenizerBase

    return {"fix_mistral_regex": False} if hasattr(PreTrainedTokenizerBase, "_patch_mistral_regex") else {}


def _load_error(rm: ResolvedModel, e: Exception) -> AfroadvError:
    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
    low = first.lower()
    if rm.use_safetensors and not rm.allow_pickle and any(
            m in low for m in ("no file named model.safetensors", "does not appear to have a file named model.safetensors")):
        # the loaders were told use_safetensors=True and found only pickle weights (hub repositories)
        return AfroadvError(f"{rm.name} has no safetensors weights (only pickle weights such as pytorch_model.bin, "
                            "which can run code when loaded); convert them to safetensors or pass --allow-pickle "
                            "if you trust the model")
    if not rm.local and any(w in first.lower() for w in ("connect", "offline", "internet", "resolve", "timed out",
                                                         "cannot find the requested files")):
        return AfroadvError(f"could not download {rm.source} ({first}); {download_advice(rm.source)}")
    return AfroadvError(f"cannot load model {rm.name}: {first}")


_LOADED: dict[tuple, object] = {}
_NO_ST_PROMPT = {"prompt": ""}  # the model's default prompt is our prefix; sentence-transformers must not add it again


def _recheck(rm: ResolvedModel) -> None:
    """Apply the loading policy again just before loading a local folder: it may have changed since
    it was resolved, or the ResolvedModel may have been built or altered by hand."""
    if rm.source_is_dir:
        check_folder_policy(rm.source, subfolder=rm.subfolder, trust_remote_code=rm.trust_remote_code,
                            allow_pickle=rm.allow_pickle)


def _st_load(cls, rm: ResolvedModel, device: str, dtype: str, **extra):
    """Construct a sentence-transformers model class (bi or cross) with our loading policy."""
    _recheck(rm)
    weights = load_dtype(device, dtype)
    kw = {"device": device, **rm.st_kwargs(dtype_kwargs(weights) if weights != "float32" else None), **extra}
    try:
        with _weights_bar_off_unless_terminal():
            return cls(rm.source, **kw)
    except AfroadvError:
        raise
    except Exception as e:
        raise _load_error(rm, e) from None


@contextmanager
def _weights_bar_off_unless_terminal():
    """transformers 5 draws a "Loading weights" bar on every load, even into a pipe or a log file:
    off while loading unless stderr is a terminal (transformers 4 has no such bar: nothing to do)."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    if was_on and not sys.stderr.isatty():
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def _shared(key: tuple, loader):
    """Reuse the last loaded model when another encoder asks for the same weights (same source,
    revision, device, dtype, backend): evaluate/attack/sweep often build several encoders on one
    model (different prefixes or caches), and loading is the slow part. Only one model is kept,
    and it is dropped *before* a different one loads, so two large models never sit in memory
    together because of this memo."""
    if key in _LOADED:
        return _LOADED[key]
    _LOADED.clear()
    with _weights_bar_off_unless_terminal():
        value = loader()
    _LOADED[key] = value
    return value


def release_loaded_models() -> None:
    """Forget the memoised model (e.g. before loading something large by other means)."""
    _LOADED.clear()


def _as_resolved(model: str | ResolvedModel, kind: str | None, trust_remote_code: bool,
                 revision: str | None, allow_pickle: bool) -> ResolvedModel:
    """A ResolvedModel keeps the policy it was resolved under (its own trust_remote_code / allow_pickle)."""
    if isinstance(model, ResolvedModel):
        return model
    return resolve_model(model, kind=kind, trust_remote_code=trust_remote_code, revision=revision,
                         allow_pickle=allow_pickle)


def _check_finite(what: str, values: np.ndarray, items: Sequence[str], unit: str) -> np.ndarray:
    """Refuse NaN/inf output before it reaches the cache (where later, correct runs would read it
    back) or any metric. Raises for the whole batch, so nothing of it is stored."""
    values = np.asarray(values, dtype=np.float32)
    rows = values.reshape(len(values), -1) if len(values) else values.reshape(0, 0)
    bad = ~np.isfinite(rows).all(axis=1)
    if bad.any():
        first = str(items[int(np.argmax(bad))])
        first = first if len(first) <= 60 else first[:57] + "..."
        raise AfroadvError(f"{what} produced non-finite {unit} for {int(bad.sum())} of {len(values)} "
                           f"{'pairs' if unit == 'scores' else 'texts'} (first: {first!r})")
    return values


_BATCHES_PER_CHUNK = 8  # batches per sentence-transformers call, one bar step (the batches are unchanged)


class _Encoder:
    """What both encoder kinds expose about the model they wrap (`resolved` is set by subclasses)."""

    resolved: ResolvedModel
    forward_seconds: float = 0.0  # wall time inside the model's forward (batches in, vectors/scores out)
    load_seconds: float = 0.0  # wall time loading weights and tokenizer (0 when a memoised model was reused)
    progress_label: str | None = None  # set (e.g. by evaluate) to show a bar over the texts actually computed
    _bar = None  # the open bar while computing

    def _progress(self, total: int):
        from afroadv.progress import Bar

        self._bar = Bar(f"{self.progress_label} {self._unit}", total, enabled=None if self.progress_label else False)
        return self._bar

    @contextmanager
    def _timed_forward(self):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.forward_seconds += time.perf_counter() - start

    def _advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(n)

    def count_cached(self, items: Sequence) -> int:
        """How many of these texts (bi) or pairs (cross) the cache already holds; reads no vectors."""
        if self.cache is None:
            return 0
        return self.cache.count_cached(self.namespace, [self._key(x) for x in items])

    @property
    def model_id(self) -> str:
        return self.resolved.model_id

    @property
    def fingerprint(self) -> str:
        return self.resolved.fingerprint


class BiEncoder(_Encoder):
    """Sentence embeddings (float32, L2-normalised) and cosine pair scores.

    The model loads lazily, on the first text the cache does not already hold, so a fully cached
    rerun never loads weights. `texts_encoded` / `batches_run` count real model work."""

    def __init__(self, model: str | ResolvedModel, *, device: str | None = None, dtype: str | None = None,
                 batch_size: int = 32, max_length: int | None = None, prefix: str | None = None,
                 cache: EmbeddingCache | bool | None = True, backend: str = "auto",
                 trust_remote_code: bool = False, revision: str | None = None, allow_pickle: bool = False):
        self.resolved = _as_resolved(model, "bi", trust_remote_code, revision, allow_pickle)
        if backend not in ("auto", "transformers", "sentence-transformers"):
            raise AfroadvError(f"backend must be auto, transformers or sentence-transformers, not {backend!r}")
        if backend == "auto":
            backend = "transformers" if self.resolved.pooling == "mean" else "sentence-transformers"
        self.backend = backend
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.batch_size = check_count(batch_size, "--batch-size")
        self.max_length = int(max_length or self.resolved.max_seq_length or 512)
        self.prefix = self.resolved.query_prefix if prefix is None else prefix
        if cache is True:
            cache = default_cache()
        self.cache: EmbeddingCache | None = cache or None
        self.namespace = namespace_name(
            kind="bi", model=self.resolved.model_id, fingerprint=self.resolved.fingerprint, prefix=self.prefix,
            max_length=self.max_length, lower=self.resolved.do_lower_case, dtype=self.dtype,
            pooling="mean" if backend == "transformers" else "st-modules",
            **({"autocast": True} if autocast(self.device, self.dtype) else {}),
        )
        self.texts_encoded = 0
        self.batches_run = 0
        self._model = None
        self._tokenizer = None
        self._st = None
        self._dim: int | None = None

    # ------------------------------------------------------------------ loading
    @property
    def loaded(self) -> bool:
        return self._model is not None or self._st is not None

    def load(self) -> "BiEncoder":
        """Load weights now (otherwise it happens on the first uncached text)."""
        if self.loaded:
            return self
        started = time.perf_counter()
        rm = self.resolved
        key = ("bi", self.backend, rm.source, rm.revision, rm.subfolder, rm.fingerprint, self.device,
               load_dtype(self.device, self.dtype))
        if self.backend == "transformers":
            self._tokenizer, self._model = _shared(key, self._load_transformers)
            self._dim = int(self._model.config.hidden_size)
            limit = getattr(self._tokenizer, "model_max_length", None)
            if isinstance(limit, int) and 0 < limit < self.max_length:
                self.max_length = limit
        else:
            self._st = _shared(key, self._load_sentence_transformers)
            getdim = getattr(self._st, "get_embedding_dimension", None) or \
                getattr(self._st, "get_sentence_embedding_dimension", None)
            self._dim = int(getdim()) if getdim and getdim() else None
            limit = getattr(self._st, "_afroadv_limit", None)
            if isinstance(limit, int) and 0 < limit < self.max_length:
                self.max_length = limit
        self.load_seconds += time.perf_counter() - started
        return self

    def _use_device_map(self) -> bool:
        if not (self.device.startswith("cuda") and self.resolved.is_large):
            return False
        try:
            import accelerate  # noqa: F401
        except ImportError:
            return False
        return True

    def _load_transformers(self):
        from transformers import AutoModel, AutoTokenizer

        rm = self.resolved
        _recheck(rm)
        kw = rm.hf_kwargs()
        model_kw = dict(kw, **dtype_kwargs(load_dtype(self.device, self.dtype)), **rm.weights_kwargs())
        if self._use_device_map():
            model_kw["device_map"] = "auto"
        try:
            tok = AutoTokenizer.from_pretrained(rm.source, **kw, **_tokenizer_kwargs())
            model = AutoModel.from_pretrained(rm.source, **model_kw)
        except AfroadvError:
            raise
        except Exception as e:  # OSError, ValueError, EnvironmentError from transformers
            raise _load_error(rm, e) from None
        if "device_map" not in model_kw:
            model.to(self.device)
        model.eval()
        return tok, model

    def _load_sentence_transformers(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise AfroadvError("this model needs sentence-transformers: pip install 'afroadv[ml]'") from None
        rm = self.resolved
        st = _st_load(SentenceTransformer, rm, self.device, self.dtype)
        st.eval()
        st._afroadv_limit = st.max_seq_length  # the model's own limit; encoders may ask for less
        return st

    @property
    def dim(self) -> int:
        if self._dim is None:
            if self.resolved.hidden_size and self.backend == "transformers":
                return int(self.resolved.hidden_size)
            self.load()
        return int(self._dim or 0)

    # ------------------------------------------------------------------ encoding
    def _prepare(self, texts: Sequence[str]) -> list[str]:
        out = [self.prefix + t for t in texts]
        return [t.lower() for t in out] if self.resolved.do_lower_case else out

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        inputs = self._prepare(texts)
        self.texts_encoded += len(texts)
        if self._st is not None:
            self.batches_run += -(-len(texts) // self.batch_size)
            self._st.max_seq_length = self.max_length  # the loaded model may be shared by encoders
            with compute_context(self.device, self.dtype):
                return self._encode_st(inputs)
        return self._encode_transformers(inputs)

    def _encode_st(self, inputs: list[str]) -> np.ndarray:
        """sentence-transformers' encode over length-sorted chunks of whole batches (what it does
        itself in one call), so the bar can move between chunks."""
        order = np.argsort([-len(t) for t in inputs], kind="stable")
        out = None
        step = self.batch_size * _BATCHES_PER_CHUNK
        for start in range(0, len(inputs), step):
            idx = order[start:start + step]
            with self._timed_forward():
                emb = self._st.encode([inputs[i] for i in idx], batch_size=self.batch_size, convert_to_numpy=True,
                                      normalize_embeddings=True, show_progress_bar=False, **_NO_ST_PROMPT)  # ours is already in
            emb = np.asarray(emb, dtype=np.float32)
            if out is None:
                out = np.empty((len(inputs), emb.shape[1]), dtype=np.float32)
            out[idx] = emb
            self._advance(len(idx))
        return out

    def batch_plan(self, inputs: list[str]) -> list[tuple[np.ndarray, dict]]:
        """Every text tokenised once, then cut into batches of similar token length (longest first),
        each padded to its own longest text: [(positions in `inputs`, padded numpy arrays), ...]."""
        tok = self._tokenizer
        enc = tok(inputs, truncation=True, max_length=self.max_length, add_special_tokens=True)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
        lengths = np.fromiter((len(ids) for ids in enc["input_ids"]), dtype=np.int64, count=len(inputs))
        order = np.argsort(-lengths, kind="stable")
        fill = {"input_ids": tok.pad_token_id or 0, "attention_mask": 0, "token_type_ids": tok.pad_token_type_id}
        left = getattr(tok, "padding_side", "right") == "left"
        plan = []
        for start in range(0, len(inputs), self.batch_size):
            idx = order[start:start + self.batch_size]
            width = int(lengths[idx].max())
            batch = {}
            for k in keys:
                arr = np.full((len(idx), width), fill[k], dtype=np.int64)
                for row, i in enumerate(idx):
                    seq = enc[k][i]
                    if left:
                        arr[row, width - len(seq):] = seq
                    else:
                        arr[row, :len(seq)] = seq
                batch[k] = arr
            plan.append((idx, batch))
        return plan

    def _encode_transformers(self, inputs: list[str]) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        model = self._model
        out = np.empty((len(inputs), self._dim), dtype=np.float32)
        in_device = model.get_input_embeddings().weight.device
        with torch.inference_mode(), compute_context(self.device, self.dtype):
            for idx, arrays in self.batch_plan(inputs):
                batch = {k: torch.from_numpy(v).to(in_device) for k, v in arrays.items()}
                with self._timed_forward():
                    hidden = model(**batch).last_hidden_state.float()
                    mask = batch["attention_mask"].to(hidden.device).unsqueeze(-1).float()
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    out[idx] = F.normalize(pooled, p=2, dim=1).cpu().numpy()
                self.batches_run += 1
                self._advance(len(idx))
        return out

    def encode(self, texts: Iterable[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised; the prefix (e5: "query: ") is added here, not by callers."""
        texts = list(texts)
        if any(not isinstance(t, str) for t in texts):
            raise AfroadvError("encode() takes a list of strings")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.cache is None:
            unique = list(dict.fromkeys(texts))
            vecs = self._compute(unique)
            pos = {t: i for i, t in enumerate(unique)}
            return vecs[[pos[t] for t in texts]]
        return self.cache.get_or_compute(self.namespace, texts, self._compute, dim=self._expected_dim())

    _unit = "encoding sentences"

    @staticmethod
    def _key(text: str) -> str:
        return text

    def _compute(self, texts: list[str]) -> np.ndarray:
        with self._progress(len(texts)):
            return _check_finite(self.resolved.name, self._encode_uncached(texts), texts, "embeddings")

    def _expected_dim(self) -> int | None:
        """The vector width cached rows must have, when known without loading the model."""
        if self._dim:
            return int(self._dim)
        if self.backend == "transformers" and self.resolved.hidden_size:
            return int(self.resolved.hidden_size)
        return None

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Cosine similarity of each pair, float32 in [-1, 1]; both sides are encoded in one call so
        a sentence shared by several pairs is encoded once."""
        pairs = list(pairs)
        if not pairs:
            return np.zeros((0,), dtype=np.float32)
        left = [p[0] for p in pairs]
        right = [p[1] for p in pairs]
        emb = self.encode(left + right)
        a, b = emb[: len(pairs)], emb[len(pairs):]
        return np.clip((a * b).sum(axis=1), -1.0, 1.0).astype(np.float32)

    def __repr__(self) -> str:
        return f"BiEncoder({self.model_id!r}, backend={self.backend}, device={self.device}, dtype={self.dtype})"


def _ce_prompt_kwargs(ce) -> dict:
    """Cross-encoders of sentence-transformers 5 apply a default prompt of their own; ours is already in."""
    return _NO_ST_PROMPT if hasattr(ce, "prompts") else {}


class CrossEncoder(_Encoder):
    """Joint pair scorer: sentence-transformers CrossEncoder with a one-output (regression) head.

    Pair scores are cached like embeddings (a one-element vector per ordered pair)."""

    def __init__(self, model: str | ResolvedModel, *, device: str | None = None, dtype: str | None = None,
                 batch_size: int = 32, max_length: int | None = None, prefix: str | None = None,
                 cache: EmbeddingCache | bool | None = True, trust_remote_code: bool = False,
                 revision: str | None = None, allow_pickle: bool = False):
        self.resolved = _as_resolved(model, "cross", trust_remote_code, revision, allow_pickle)
        self.prefix = self.resolved.query_prefix if prefix is None else prefix  # before both sentences
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        self.batch_size = check_count(batch_size, "--batch-size")
        self.max_length = int(max_length or self.resolved.max_seq_length or 512)
        if cache is True:
            cache = default_cache()
        self.cache: EmbeddingCache | None = cache or None
        self.namespace = namespace_name(kind="cross", model=self.resolved.model_id,
                                        fingerprint=self.resolved.fingerprint, max_length=self.max_length,
                                        dtype=self.dtype, **({"prefix": self.prefix} if self.prefix else {}),
                                        **({"autocast": True} if autocast(self.device, self.dtype) else {}))
        self.pairs_scored = 0
        self._ce = None

    def load(self) -> "CrossEncoder":
        if self._ce is not None:
            return self
        try:
            from sentence_transformers import CrossEncoder as STCrossEncoder
        except ImportError:
            raise AfroadvError("cross-encoders need sentence-transformers: pip install 'afroadv[ml]'") from None
        rm = self.resolved
        started = time.perf_counter()
        ce = _st_load(STCrossEncoder, rm, self.device, self.dtype, max_length=self.max_length)
        n_labels = getattr(getattr(ce, "config", None), "num_labels", None) or getattr(ce, "num_labels", 1)
        if n_labels != 1:
            raise AfroadvError(f"{rm.name} is a {n_labels}-label classifier; a cross-encoder for similarity "
                               "needs one regression output")
        self._ce = ce
        self.load_seconds += time.perf_counter() - started
        return self

    def _score_uncached(self, keys: list[str]) -> np.ndarray:
        self.load()
        pairs = [tuple(self.prefix + t for t in json.loads(k)) for k in keys]
        self.pairs_scored += len(pairs)
        import torch

        out = np.empty((len(pairs), 1), dtype=np.float32)
        step = self.batch_size * _BATCHES_PER_CHUNK  # chunks of whole batches, so the bar can move
        with torch.inference_mode(), compute_context(self.device, self.dtype):
            for start in range(0, len(pairs), step):
                with self._timed_forward():
                    scores = self._ce.predict(pairs[start:start + step], batch_size=self.batch_size,
                                              convert_to_numpy=True, show_progress_bar=False, **_ce_prompt_kwargs(self._ce))
                out[start:start + step] = np.asarray(scores, dtype=np.float32).reshape(-1, 1)
                self._advance(min(step, len(pairs) - start))
        return out

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """One score per ordered pair (the model's own activation, e.g. sigmoid to 0..1)."""
        keys = [self._key(p) for p in pairs]
        if not keys:
            return np.zeros((0,), dtype=np.float32)
        if self.cache is None:
            unique = list(dict.fromkeys(keys))
            vals = self._compute(unique)[:, 0]
            pos = {k: i for i, k in enumerate(unique)}
            return vals[[pos[k] for k in keys]]
        return self.cache.get_or_compute(self.namespace, keys, self._compute, dim=1)[:, 0]

    _unit = "scoring pairs"

    @staticmethod
    def _key(pair: tuple[str, str]) -> str:
        return json.dumps([pair[0], pair[1]], ensure_ascii=False)

    def _compute(self, keys: list[str]) -> np.ndarray:
        with self._progress(len(keys)):
            return _check_finite(self.resolved.name, self._score_uncached(keys), keys, "scores")

    def __repr__(self) -> str:
        return f"CrossEncoder({self.model_id!r}, device={self.device}, dtype={self.dtype})"


def load_encoder(model: str | ResolvedModel, *, kind: str | None = None, **kwargs) -> BiEncoder | CrossEncoder:
    """Resolve `model` and wrap it in the encoder its kind calls for (kwargs go to the encoder).
    `trust_remote_code`, `revision` and `allow_pickle` go to resolve_model (a ResolvedModel keeps its own)."""
    rm = model if isinstance(model, ResolvedModel) else resolve_model(
        model, kind=kind, trust_remote_code=kwargs.pop("trust_remote_code", False),
        revision=kwargs.pop("revision", None), allow_pickle=kwargs.pop("allow_pickle", False))
    if kind and rm.kind != kind:
        from dataclasses import replace

        rm = replace(rm, kind=kind)
    if rm.kind == "cross":
        kwargs.pop("backend", None)
        return CrossEncoder(rm, **kwargs)
    return BiEncoder(rm, **kwargs)
