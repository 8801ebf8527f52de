"""Counter-based random streams for generation: draw j of a stream is a pure function of (name, j).

Seeding a Mersenne Twister per pair costs more than perturbing the pair (≈ 8 µs), so generation
names one stream per pair — (seed, recipe, language, pair id) — hashes the name to a 64-bit key
once, and draw j is SplitMix64(key + (j + 1)·γ) as a double in [0, 1). Draws are *addressed*:
what a draw decides is fixed by its index j (recipe.py lays the indices out), so the plain
per-text path and the numpy batch kernel (vector.py) compute the same draws, and results never
depend on batch size or order.

`Draws` offers `random()` and `choice()`, the two calls transformations make.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_SCALE = 2.0**-53


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


class Draws:
    """Draws start, start+1, ... of stream `key`, one per `random()` call: the addressed block of
    draws a transformation uses for one word (generation gives every eligible word its own block)."""

    __slots__ = ("key", "_next")

    def __init__(self, key: int, start: int = 0):
        self.key = key
        self._next = start

    def random(self) -> float:
        j = self._next
        self._next = j + 1
        return (draw_bits(self.key, j) >> 11) * _SCALE

    def choice(self, seq: Sequence):
        return seq[int(self.random() * len(seq))]


def draw(key: int, j: int) -> float:
    """Draw j of stream `key` as a double in [0, 1)."""
    return (draw_bits(key, j) >> 11) * _SCALE


def stream_keys(prefix_parts: tuple, names: list[str]) -> list[int]:
    """`stream_key(*prefix_parts, name)` for many names: the common prefix is hashed once."""
    base = hashlib.blake2b(("|".join(map(str, prefix_parts)) + "|").encode("utf-8"), digest_size=8)
    out = []
    for name in names:
        h = base.copy()
        h.update(name.encode("utf-8"))
        out.append(int.from_bytes(h.digest(), "little"))
    return out


def draw_bits_array(keys, slots):
    """draw_bits vectorised: the 64 random bits of draw `slots` of streams `keys` (numpy uint64)."""
    import numpy as np

    u64 = np.uint64
    with np.errstate(over="ignore"):
        z = np.asarray(keys).astype(u64) + (np.asarray(slots).astype(u64) + u64(1)) * u64(_GAMMA)
        z = (z ^ (z >> u64(30))) * u64(_M1)
        z = (z ^ (z >> u64(27))) * u64(_M2)
        z ^= z >> u64(31)
    return z


def draws_array(keys, slots):
    """draws vectorised: doubles in [0, 1)."""
    import numpy as np

    return (draw_bits_array(keys, slots) >> np.uint64(11)).astype(np.float64) * _SCALE
