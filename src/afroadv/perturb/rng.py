"""Counter-based random streams for generation: draw j of a stream is a pure function of (name, j).

Seeding a Mersenne Twister per pair costs more than perturbing the pair (≈ 8 µs), so generation
names one stream per pair — (seed, recipe, language, pair id) — hashes the name to a 64-bit key
once, and draw j is SplitMix64(key + (j + 1)·γ) as a double in [0, 1). The first draws of a whole
batch of pairs are computed in one vectorised numpy pass; a stream that needs more extends itself
in pure Python with bit-identical values. Results never depend on batch size or order.

A `Stream` offers `random()` and `choice()`, the two calls transformations make.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_SCALE = 2.0**-53
_EXTEND = 16  # draws computed at a time once a stream outruns its precomputed block


def stream_key(*parts) -> int:
    """The 64-bit key of the stream named by `parts` (joined with '|', UTF-8, BLAKE2b)."""
    name = "|".join(map(str, parts)).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "little")


def draw_bits(key: int, j: int) -> int:
    """The 64 random bits of draw j of stream `key` (SplitMix64), in pure Python."""
    z = (key + (j + 1) * _GAMMA) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def draws(key: int, start: int, stop: int) -> list[float]:
    """Draws start..stop-1 of stream `key`, in pure Python (the reference the numpy paths match)."""
    return [(draw_bits(key, j) >> 11) * _SCALE for j in range(start, stop)]


class Stream:
    """One named random stream; `random()` walks its draws in order."""

    __slots__ = ("key", "_draws", "_i")

    def __init__(self, key: int, first: list[float] | None = None):
        self.key = key
        self._draws = first if first is not None else []
        self._i = 0

    @classmethod
    def named(cls, *parts) -> Stream:
        return cls(stream_key(*parts))

    def random(self) -> float:
        i = self._i
        self._i = i + 1
        try:
            return self._draws[i]
        except IndexError:
            self._draws.extend(draws(self.key, len(self._draws), i + _EXTEND))
            return self._draws[i]

    def choice(self, seq: Sequence):
        return seq[int(self.random() * len(seq))]

    @property
    def used(self) -> int:
        return self._i


def stream_keys(prefix_parts: tuple, names: list[str]) -> list[int]:
    """`stream_key(*prefix_parts, name)` for many names: the common prefix is hashed once."""
    base = hashlib.blake2b(("|".join(map(str, prefix_parts)) + "|").encode("utf-8"), digest_size=8)
    out = []
    for name in names:
        h = base.copy()
        h.update(name.encode("utf-8"))
        out.append(int.from_bytes(h.digest(), "little"))
    return out


def batch_streams(keys: list[int], n_first: int) -> list[Stream]:
    """Streams for many keys with their first `n_first` draws computed in one numpy pass."""
    if not keys:
        return []
    import numpy as np

    k = np.array(keys, dtype=np.uint64)[:, None]
    j = np.arange(1, n_first + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        z = k + j * np.uint64(_GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
        z ^= z >> np.uint64(31)
    table = ((z >> np.uint64(11)).astype(np.float64) * _SCALE).tolist()
    return list(map(Stream, keys, table))
