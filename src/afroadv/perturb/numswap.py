"""A number in a sentence changed to another that clearly differs: the pair's meaning changes, so its
similarity should fall (CheckList's "change numbers" directional test, Ribeiro et al. 2020).

A number is a run of ASCII digits, with `,` or `.` between digit groups (1,000 · 3.5), standing as
its own token: digits inside a word or a name (COVID-19, 10am, G7) are left alone. The new value
keeps the number's shape — digit grouping, decimals, leading zeros, round numbers stay round — and
differs by at least a fifth of it (at least 1):
- a year (1900–2099, four digits, no separators) moves 2–15 years, up or down;
- 0–12 (counts, months, hours): another value in 1–12;
- 13–31 (days of a month, ages, counts): another value in 1–31 at least 3 away (never "41 ga Maris");
- a larger whole number: ± 20–80 %, rounded to its round unit (200 → 260, 1,000,000 → 1,400,000).
Number words (Hausa biyu, Swahili mbili) are not changed: data/numbers lists them without values.

In a pair only a shared number is changed (sentence.py): one whose value the other side also writes
(1,500 = 1500 = 1.500; 3.5 = 3,5 — compared by value, grouping and decimal mark aside) and this side
writes once; the new value is one neither side writes. A pair sharing no number is not eligible.
"""

from __future__ import annotations

import random
from decimal import Decimal

from afroadv.perturb.base import register
from afroadv.perturb.sentence import SentenceEdit, Site, Tokens

_SEPARATORS = (",", ".")
_REDRAWS = 8  # new values drawn before giving up when each one is a value the pair already writes


def _is_digits(token: str) -> bool:
    return token.isascii() and token.isdigit()


def new_integer(n: int, width: int, rng: random.Random) -> int:
    """Another whole number than n, clearly different (see the module's rules)."""
    if width == 4 and 1900 <= n <= 2099:
        step = 2 + int(rng.random() * 14)
        return n - step if rng.random() < 0.5 and n - step >= 1900 else n + step
    if n <= 31:
        top, gap = (12, 1) if n <= 12 else (31, 3)
        others = [v for v in range(1, top + 1) if abs(v - n) >= gap]
        return others[int(rng.random() * len(others))]
    zeros = len(str(n)) - len(str(n).rstrip("0"))
    unit = 10 ** max(0, min(zeros, len(str(n)) - 2))  # keep two significant digits free to change
    change = max(unit, round(n * (0.2 + 0.6 * rng.random()) / unit) * unit)
    return n - change if rng.random() < 0.5 and n - change > 0 else n + change


def respell(old: str, value: int) -> str:
    """`value` written as `old` writes its integer part: thousands separator, leading zeros."""
    sep = next((c for c in _SEPARATORS if c in old), "")
    digits = old.replace(sep, "") if sep else old
    text = str(value).zfill(len(digits)) if digits.startswith("0") else str(value)
    if sep and len(old.split(sep)[-1]) == 3 and all(len(g) == 3 for g in old.split(sep)[1:]):
        groups = []
        while len(text) > 3:
            groups.insert(0, text[-3:])
            text = text[:-3]
        text = sep.join([text, *groups])
    return text


@register
class NumSwap(SentenceEdit):
    """`Watanni 3` → `watanni 9`; `shekarar 2019` → `shekarar 2025`; `1,500` → `2,100`."""

    kind = "numswap"
    learnable = True  # digits are digits in every language
    pair_aware = True

    def sites(self, toks: Tokens) -> list[Site]:
        tokens, out, i = toks.tokens, [], 0
        while i < len(tokens):
            if not _is_digits(tokens[i]) or self._attached(toks, i, before=True):
                i += 1
                continue
            j = i + 1  # a number spans digit groups joined by one separator (1,000 · 3.5)
            while j < len(tokens) and toks.gap_before(j) in _SEPARATORS and _is_digits(tokens[j]):
                j += 1
            if not self._attached(toks, j - 1, before=False):
                out.append(Site(i, j))
            i = j
        return out

    @staticmethod
    def _attached(toks: Tokens, i: int, before: bool) -> bool:
        """Digits glued to a word by a hyphen or slash (COVID-19, 4/5ths), or a digit group of a number
        that begins or ends inside a word (N45,000; 3.5m): part of a name, a code or a larger number."""
        gap = toks.gap_before(i) if before else toks.gap_after(i)
        j = i - 1 if before else i + 1
        if not 0 <= j < len(toks.tokens) or _is_digits(toks.tokens[j]):
            return False
        touching = toks.tokens[j][-1:] if before else toks.tokens[j][:1]
        return gap in ("-", "/", "_") or (gap in _SEPARATORS and touching.isdigit())

    @staticmethod
    def _parts(toks: Tokens, site: Site) -> tuple[str, str]:
        """(whole part as written, decimals with their mark or "") of the number at `site`."""
        old = toks.span(site.start, site.end)
        marks = {toks.gap_before(k) for k in range(site.start + 1, site.end)}
        if site.end - site.start > 1 and (len(toks.tokens[site.end - 1]) != 3 or len(marks) > 1):
            # 3.5, 1,000.25: the last group is decimals; so is it after two different marks (15,003.500)
            cut = old.rfind(toks.gap_before(site.end - 1))
            return old[:cut], old[cut:]
        return old, ""

    @staticmethod
    def _value(whole: str, decimals: str) -> str:
        """A number's value as a key: 1,500 · 1500 · 1.500 → 1500; 3.5 · 3,5 · 3.50 → 3.5."""
        digits = "".join(c for c in whole if c.isdigit())
        return str(Decimal(f"{digits}.{decimals[1:] or 0}").normalize())

    def site_keys(self, toks: Tokens, site: Site) -> frozenset[str]:
        return frozenset({self._value(*self._parts(toks, site))})

    def text_keys(self, toks: Tokens, skip: Site | None = None) -> frozenset[str]:
        return frozenset(self._value(*self._parts(toks, s)) for s in self.sites(toks) if s != skip)

    def edit(self, toks: Tokens, site: Site, rng: random.Random, own: frozenset[str],
             avoid: frozenset[str] = frozenset()) -> str | None:
        whole, decimals = self._parts(toks, site)
        sep = next((c for c in _SEPARATORS if c in whole), "")
        n = int(whole.replace(sep, "")) if sep else int(whole)
        width = len(whole.replace(sep, "")) if sep else len(whole)
        for _ in range(_REDRAWS):
            new = respell(whole, new_integer(n, width, rng))
            if self._value(new, decimals) not in avoid:
                return new + decimals
        return None
