"""Small statistics for human review: Wilson intervals for rates, Cohen's and Fleiss' kappa for
agreement. Pure Python, so `import afroadv.validate` stays light; undefined values are None, never NaN."""

from __future__ import annotations

import math
from collections import Counter

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial rate: unlike p ± z·se it stays inside [0, 1] and keeps a
    sensible width when the rate is near 0 or 1, as label preservation usually is. None when n is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends, not 0.9999999999999999
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def cohen_kappa(a: list, b: list) -> float | None:
    """Cohen's kappa of two raters' labels on the same items (chance agreement from each rater's own
    label shares). None when undefined: no items, or chance agreement is 1 (both always say the same)."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def fleiss_kappa(counts: list[list[int]]) -> float | None:
    """Fleiss' kappa for three or more raters: `counts[i][j]` = raters who put item i in category j,
    the same number of raters for every item. None when undefined (no items, fewer than two raters,
    or every rating in one category)."""
    if not counts:
        return None
    raters = sum(counts[0])
    if any(sum(row) != raters for row in counts):
        raise ValueError("every item needs the same number of ratings")
    if raters < 2:
        return None
    items = len(counts)
    per_item = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in counts]
    observed = sum(per_item) / items
    shares = [sum(row[j] for row in counts) / (items * raters) for j in range(len(counts[0]))]
    expected = sum(s * s for s in shares)
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)
