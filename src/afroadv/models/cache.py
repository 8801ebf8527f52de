"""Embedding cache: every unique text is encoded once per model, across sets, commands and runs.

Why: a perturbed test set shares most sentences with its clean original, attacks re-score the
same sentences many times, and sweeps re-run whole evaluations. Caching the final (normalised)
vectors makes those repeats free.

Storage: an in-memory LRU in front of one SQLite file (`<cache>/embeddings/embeddings.sqlite3`)
holding float32 vectors as raw BLOBs (no pickle: a cache file can never execute code). Rows are
keyed by (namespace, blake2b-128 of the text); a namespace names everything that changes a vector:
model id, model fingerprint, prefix, max length, dtype. SQLite's WAL mode lets several processes
share the file.

Integrity: only finite vectors are ever stored (a NaN from one broken run would otherwise be served
to every later run), and every row read from disk is checked (its length, the namespace's width,
finiteness); a bad row counts as a miss and is deleted, so the next computation replaces it.
A namespace's width is kept in its `info` column when its first rows are stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from afroadv.errors import AfroadvError
from afroadv.models._files import cache_root

_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    info TEXT,
    created REAL
);
CREATE TABLE IF NOT EXISTS vectors (
    ns INTEGER NOT NULL,
    key BLOB NOT NULL,
    dim INTEGER NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
"""
_CHUNK = 500  # SQLite's host-parameter limit is 999 on old builds


def text_key(text: str) -> bytes:
    """16-byte digest of the exact text (no normalisation: a perturbation may change one byte)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def namespace_name(**parts) -> str:
    """A stable namespace string from keyword parts (sorted, JSON): readable in the database."""
    return json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def default_cache_path() -> Path:
    return cache_root() / "embeddings" / "embeddings.sqlite3"


class EmbeddingCache:
    """Memory + disk cache of float32 vectors.

    `hits` and `misses` count unique texts per lookup: a text asked for twice in one call is
    looked up (and, if missing, encoded) once."""

    def __init__(self, path: Path | str | None = None, *, disk: bool = True, max_memory_items: int = 200_000):
        self.path = Path(path) if path is not None else default_cache_path()
        self.disk = disk
        self.max_memory_items = max_memory_items
        self._mem: OrderedDict[tuple[int | str, bytes], np.ndarray] = OrderedDict()
        self._ns_ids: dict[str, int | str] = {}
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------------ storage
    def _db(self) -> sqlite3.Connection | None:
        if not self.disk:
            return None
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
                conn.commit()
            except sqlite3.DatabaseError as e:
                raise AfroadvError(f"embedding cache {self.path} is unusable ({e}); delete it or set AFROADV_CACHE") from None
            except OSError as e:
                raise AfroadvError(f"cannot create the embedding cache at {self.path}: {e.strerror}") from None
            self._conn = conn
        return self._conn

    def _ns_id(self, namespace: str) -> int | str:
        if namespace in self._ns_ids:
            return self._ns_ids[namespace]
        db = self._db()
        if db is None:
            ns_id: int | str = namespace
        else:
            db.execute("INSERT OR IGNORE INTO namespaces(name, info, created) VALUES (?, ?, ?)",
                       (namespace, None, time.time()))
            db.commit()
            ns_id = db.execute("SELECT id FROM namespaces WHERE name=?", (namespace,)).fetchone()[0]
        self._ns_ids[namespace] = ns_id
        return ns_id

    def _ns_dim(self, ns: int | str, *, infer: bool = False) -> int | None:
        """The vector width recorded for a namespace (None: nothing recorded yet, or no disk).

        With `infer`, a namespace written before widths were recorded gets the width most of its
        rows have (a few damaged rows cannot outvote it), and that width is recorded."""
        db = self._db()
        if db is None or not isinstance(ns, int):
            return None
        row = db.execute("SELECT info FROM namespaces WHERE id=?", (ns,)).fetchone()
        try:
            dim = json.loads(row[0]).get("dim") if row and row[0] else None
        except (ValueError, AttributeError):
            dim = None
        if isinstance(dim, int) and dim > 0:
            return dim
        if not infer:
            return None
        common = db.execute("SELECT dim, COUNT(*) AS n FROM vectors WHERE ns=? GROUP BY dim ORDER BY n DESC LIMIT 1",
                            (ns,)).fetchone()
        if not common or not isinstance(common[0], int) or common[0] <= 0:
            return None
        db.execute("UPDATE namespaces SET info=? WHERE id=?", (json.dumps({"dim": common[0]}), ns))
        db.commit()
        return common[0]

    def _set_ns_dim(self, db: sqlite3.Connection, ns: int | str, dim: int) -> None:
        """Record the width of freshly computed rows; they are authoritative, so a different
        recorded width (a corrupted or hand-edited database) is replaced."""
        if isinstance(ns, int) and self._ns_dim(ns) != dim:
            db.execute("UPDATE namespaces SET info=? WHERE id=?", (json.dumps({"dim": dim}), ns))

    @staticmethod
    def _row_ok(dim, blob, expected: int | None) -> np.ndarray | None:
        """The vector of a stored row, or None if the row is unusable: not a whole number of
        float32s, a length that disagrees with its `dim` column or the namespace's width, or a
        NaN/inf anywhere."""
        if not isinstance(blob, (bytes, memoryview)) or not isinstance(dim, int) or len(blob) % 4:
            return None
        vec = np.frombuffer(blob, dtype=np.float32)
        if vec.shape[0] != dim or dim <= 0 or (expected is not None and dim != expected):
            return None
        if not np.isfinite(vec).all():
            return None
        return vec

    def _remember(self, key: tuple, vec: np.ndarray) -> None:
        if self.max_memory_items <= 0:
            return
        self._mem[key] = vec
        self._mem.move_to_end(key)
        while len(self._mem) > self.max_memory_items:
            self._mem.popitem(last=False)

    # ------------------------------------------------------------------ API
    def get_many(self, namespace: str, texts: Sequence[str], *, dim: int | None = None) -> dict[str, np.ndarray]:
        """Vectors already cached for these texts (missing ones are absent from the result).

        `dim` is the width the caller expects (else the namespace's recorded width); a stored row
        that fails the checks of `_row_ok` is a miss and is deleted."""
        with self._lock:
            ns = self._ns_id(namespace)
            unique = list(dict.fromkeys(texts))
            found: dict[str, np.ndarray] = {}
            todo: dict[bytes, str] = {}
            for t in unique:
                k = text_key(t)
                v = self._mem.get((ns, k))
                if v is not None:
                    self._mem.move_to_end((ns, k))
                    found[t] = v
                else:
                    todo[k] = t
            db = self._db()
            if db is not None and todo:
                expected = dim or self._ns_dim(ns, infer=True)
                keys = list(todo)
                bad: list[bytes] = []
                for i in range(0, len(keys), _CHUNK):
                    chunk = keys[i:i + _CHUNK]
                    q = f"SELECT key, dim, vec FROM vectors WHERE ns=? AND key IN ({','.join('?' * len(chunk))})"
                    for k, row_dim, blob in db.execute(q, (ns, *chunk)).fetchall():
                        vec = self._row_ok(row_dim, blob, expected)
                        if vec is None:
                            bad.append(k)  # torn, wrong width or non-finite: a miss, recomputed below
                            continue
                        found[todo[k]] = vec
                        self._remember((ns, k), vec)
                if bad:
                    db.executemany("DELETE FROM vectors WHERE ns=? AND key=?", [(ns, k) for k in bad])
                    db.commit()
            self.hits += len(found)
            self.misses += len(unique) - len(found)
            return found

    def count_cached(self, namespace: str, texts: Sequence[str]) -> int:
        """How many of the unique `texts` are cached, reading keys only (no vectors, no hit/miss
        counts): lets a caller say truthfully what will be computed before it starts."""
        with self._lock:
            ns = self._ns_id(namespace)
            keys = {text_key(t) for t in dict.fromkeys(texts)}
            n = sum((ns, k) in self._mem for k in keys)
            todo = [k for k in keys if (ns, k) not in self._mem]
            db = self._db()
            if db is not None:
                for i in range(0, len(todo), _CHUNK):
                    chunk = todo[i:i + _CHUNK]
                    q = f"SELECT COUNT(*) FROM vectors WHERE ns=? AND key IN ({','.join('?' * len(chunk))})"
                    n += db.execute(q, (ns, *chunk)).fetchone()[0]
            return n

    def put_many(self, namespace: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store one float32 row per text (rows are copied; the caller may reuse its array).

        Non-finite rows are refused and nothing of the call is stored: the cache outlives the run
        that computed them."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[:, None]
        if len(texts) != vectors.shape[0]:
            raise ValueError("put_many: one vector per text")
        if vectors.ndim != 2 or (len(texts) and vectors.shape[1] == 0):
            raise ValueError("put_many: vectors must be a non-empty 2-d array")
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            raise AfroadvError(f"refusing to cache non-finite vectors for {int(bad.sum())} of {len(texts)} texts")
        with self._lock:
            ns = self._ns_id(namespace)
            rows = []
            for t, v in zip(texts, vectors):
                k = text_key(t)
                v = np.ascontiguousarray(v).copy()
                v.setflags(write=False)
                self._remember((ns, k), v)
                rows.append((ns, k, int(v.shape[0]), v.tobytes()))
            db = self._db()
            if db is not None and rows:
                self._set_ns_dim(db, ns, int(vectors.shape[1]))
                db.executemany("INSERT OR REPLACE INTO vectors(ns, key, dim, vec) VALUES (?, ?, ?, ?)", rows)
                db.commit()

    def get_or_compute(self, namespace: str, texts: Sequence[str],
                       compute: Callable[[list[str]], np.ndarray], *, dim: int | None = None) -> np.ndarray:
        """Rows for `texts` in order; only the unique texts not cached are passed to `compute`.
        `dim`: the expected width, when the caller knows it (see get_many)."""
        texts = list(texts)
        found = self.get_many(namespace, texts, dim=dim)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            new = np.asarray(compute(missing), dtype=np.float32)
            if new.ndim == 1:
                new = new[:, None]
            stale = [t for t, v in found.items() if v.shape[0] != new.shape[1]]
            if stale:
                # rows of another width that nothing could check before this computation (a database
                # from before widths were recorded, read with no expected width): recompute them too
                new = np.concatenate([new, np.asarray(compute(stale), dtype=np.float32).reshape(len(stale), -1)])
                missing += stale
            self.put_many(namespace, missing, new)
            for t, v in zip(missing, new):
                found[t] = v
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def stats(self) -> dict:
        """Counts for reports: hits, misses, hit rate, and rows held in memory and on disk."""
        with self._lock:
            on_disk = None
            db = self._db()
            if db is not None:
                on_disk = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            total = self.hits + self.misses
            return {"hits": self.hits, "misses": self.misses,
                    "hit_rate": (self.hits / total) if total else None,
                    "in_memory": len(self._mem), "on_disk": on_disk, "path": str(self.path) if self.disk else None}

    def reset_counts(self) -> None:
        self.hits = self.misses = 0

    def clear_memory(self) -> None:
        """Drop the in-memory layer (the disk copy stays): lets tests prove the disk round trip."""
        with self._lock:
            self._mem.clear()

    def clear(self) -> None:
        """Delete every cached vector, in memory and on disk."""
        with self._lock:
            self._mem.clear()
            db = self._db()
            if db is not None:
                db.execute("DELETE FROM vectors")
                db.execute("DELETE FROM namespaces")
                db.commit()
            self._ns_ids.clear()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._ns_ids.clear()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path) if self.disk else 'memory'}, hits={self.hits}, misses={self.misses})"


_DEFAULTS: dict[str, EmbeddingCache] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_cache() -> EmbeddingCache:
    """The process-wide cache for the current cache root (one per path, so every encoder in a
    run shares counts and memory)."""
    path = default_cache_path()
    with _DEFAULTS_LOCK:
        c = _DEFAULTS.get(str(path))
        if c is None:
            c = _DEFAULTS[str(path)] = EmbeddingCache(path)
        return c
