"""Same-language substitution: a word written the way other writers of the language write it.

Only real variants (data/variants, built from afroadv.spelling rules and corpus attestation): the
same word with a tone mark, under-dot or hook left off (ọ̀rọ̀ → ọrọ, ƙasa → kasa, ƙasa → qasa), an
equal-sounding Ge'ez syllable (ሥራ → ስራ, ሀገር → ሃገር), another apostrophe, or — for a dialect — a
cognate from a related language's dictionary (Kinyarwanda → Kirundi). Never another word that
merely shares an English gloss (girl → youth), never a mark the text does not carry (a variant has
no mark its word lacks). Choices follow how often each spelling is attested.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate

from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.resources import data_dir
from afroadv.text import match_case, nfc

_MIN_WORDS = 50  # a language with fewer words that have variants gets no lexsub set


@lru_cache(maxsize=None)
def load_variants(code: str) -> tuple[dict[str, tuple[tuple[str, int, str], ...]], str]:
    """word -> ((variant, attested count, kind), ...) and the file's version."""
    path = data_dir() / "variants" / f"{code}.tsv"
    if not path.exists():
        return {}, ""
    raw = path.read_bytes()
    out: dict[str, list[tuple[str, int, str]]] = {}
    for line in raw.decode("utf-8").splitlines()[1:]:
        word, variant, kind, _, count = line.split("\t")
        out.setdefault(nfc(word), []).append((nfc(variant), int(count), kind))
    return {w: tuple(v) for w, v in out.items()}, hashlib.sha256(raw).hexdigest()[:12]


def variants_refusal(lang: Language) -> str | None:
    table, _ = load_variants(lang.code)
    if len(table) < _MIN_WORDS:
        return f"no spelling variants are known for {lang.code} (data/variants; `python -m afroadv.build variants`)"
    return None


@register
class LexSub(Transformation):
    kind = "lexsub"

    def __init__(self, lang: Language, kinds: tuple[str, ...] | list[str] | None = None):
        super().__init__(lang)
        table, self.version = load_variants(lang.code)
        allowed = None if kinds is None else {str(k) for k in kinds}
        self.table = {w: tuple(v for v in vs if allowed is None or v[2].split(":")[0] in allowed) for w, vs in table.items()}
        self._cum: dict[str, tuple[int, ...]] = {}

    def _options(self, word: str) -> tuple[tuple[str, int, str], ...]:
        return self.table.get(word.casefold(), ())

    def applies(self, word: str) -> bool:
        return bool(self._options(word))

    def apply(self, word: str, rng: random.Random) -> str:
        options = self._options(word)
        key = word.casefold()
        cum = self._cum.get(key)
        if cum is None:
            cum = self._cum[key] = tuple(accumulate(max(1, c) for _, c, _ in options))
        chosen = options[bisect_right(cum, rng.random() * cum[-1])][0]
        return match_case(word, chosen)

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        ranked = sorted(self._options(word), key=lambda v: (-v[1], v[0]))
        return [match_case(word, v) for v, _, _ in ranked[:n]]

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"variants": f"{self.lang.code}@{self.version}"} if self.version else {}
