"""The model side of an attack: pair scores that never recompute anything.

`PairScorer.score_pairs(pairs)` is what every attack query ends in (the afroadv engine calls it
directly; TextAttack reaches it through `PairModelWrapper` in ta_wrapper.py). For a bi-encoder:

- each *text* is encoded once: a query that rewrites one side needs only that side's embedding,
  and the untouched side (the same string in every candidate) is looked up, never re-encoded;
- all texts a search step needs are sent to the encoder in one call, which sorts them by length
  and batches them (`BiEncoder._encode_uncached`);
- an in-process memo (text → vector) sits in front of the encoder's persistent SQLite
  `EmbeddingCache`, so embeddings carry over across examples (TextAttack clears its model cache
  after every example) and across runs and commands (evaluate, sweep, a resumed attack).

Cross-encoders score the pair jointly, so there is nothing to share between sides; their pair
scores still go through the persistent cache. No torch or textattack import here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of L2-normalised embeddings, exactly as `BiEncoder.score_pairs` computes it."""
    return np.clip((a * b).sum(axis=1), -1.0, 1.0).astype(np.float32)


class PairScorer:
    """Similarity scores for (sentence1, sentence2) pairs on top of an afroadv encoder."""

    def __init__(self, encoder, memo_bytes: int = 512 << 20):
        self.encoder = encoder
        self.bi = hasattr(encoder, "encode")
        self._memo: dict[str, np.ndarray] = {}
        self._memo_bytes = int(memo_bytes)  # vectors *and* their texts: long texts must not grow it
        self._memo_used = 0
        self.calls = 0  # score_pairs calls
        self.pairs_scored = 0  # pairs asked for (model queries that reached the model side)
        self.texts_requested = 0  # 2 per pair
        self.texts_looked_up = 0  # texts not in the memo (handed to the encoder / its cache)

    @property
    def texts_encoded(self) -> int:
        """Texts the model actually ran on (cache misses), since the encoder was built."""
        return int(getattr(self.encoder, "texts_encoded", getattr(self.encoder, "pairs_scored", 0)))

    @staticmethod
    def _size(text: str, vec: np.ndarray) -> int:
        return sys.getsizeof(text) + vec.nbytes + 100  # (+ the dict slot and array header)

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        pairs = [(p[0], p[1]) for p in pairs]
        self.calls += 1
        self.pairs_scored += len(pairs)
        self.texts_requested += 2 * len(pairs)
        if not pairs:
            return np.zeros((0,), dtype=np.float32)
        if not self.bi:
            return np.asarray(self.encoder.score_pairs(pairs), dtype=np.float32)
        memo = self._memo
        need: dict[str, None] = {}
        for a, b in pairs:
            if a not in memo:
                need.setdefault(a)
            if b not in memo:
                need.setdefault(b)
        if need:
            texts = list(need)
            self.texts_looked_up += len(texts)
            vecs = self.encoder.encode(texts)
            added = sum(self._size(t, v) for t, v in zip(texts, vecs))
            if self._memo_used + added > self._memo_bytes:  # full: keep only what this call needs
                keep = {t for p in pairs for t in p}
                self._memo = memo = {t: v for t, v in memo.items() if t in keep}
                self._memo_used = sum(self._size(t, v) for t, v in memo.items())
            for t, v in zip(texts, vecs):
                memo[t] = v
            self._memo_used += added
        a = np.stack([memo[p[0]] for p in pairs])
        b = np.stack([memo[p[1]] for p in pairs])
        return cosine_rows(a, b)

    def stats(self) -> dict:
        return {"calls": self.calls, "pairs_scored": self.pairs_scored, "texts_requested": self.texts_requested,
                "texts_looked_up": self.texts_looked_up, "texts_encoded": self.texts_encoded}


class ForwardTimer:
    """Wall time spent inside the model (tokenise + forward + pool) of one encoder instance.

    Wraps the instance's uncached-compute method, which the encoder and its cache call for cache
    misses only; weights are loaded outside the timed region so loading never counts as forward."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.seconds = 0.0
        self.load_seconds = 0.0
        self.calls = 0
        name = "_encode_uncached" if hasattr(encoder, "_encode_uncached") else "_score_uncached"
        inner = getattr(encoder, name)

        def timed(texts):
            if not (encoder.loaded if hasattr(encoder, "loaded") else encoder._ce is not None):
                t0 = time.perf_counter()
                encoder.load()
                self.load_seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            try:
                return inner(texts)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls += 1

        setattr(encoder, name, timed)
