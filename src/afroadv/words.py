"""What a language's words are, for deciding what a recipe may touch: function words (never
code-switched), number words (protected like digits), names (protected in every script, single
and multi-word), and common words (a capitalised word at a sentence start is rewritable only if
it is a known common word and not a known name).

The lists ship in data/words/{code}.tsv (built by `python -m afroadv.build words` from corpora,
word alignments, stop-word lists, a reviewed gazetteer and reviewed number lists); a generated
set adds what its own dataset shows (`TextContext.learn`). Lookups are by casefold, NFC.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from afroadv.resources import data_dir
from afroadv.text import ends_sentence, nfc, split_tokens

CLASSES = ("function", "number", "name", "common")


def key(word: str) -> str:
    return nfc(word).casefold()


@dataclass(frozen=True)
class WordClasses:
    function: frozenset[str] = frozenset()
    number: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # one-token names
    multi_names: dict = field(default_factory=dict)  # first token -> tuple of the following tokens' tuples
    common: frozenset[str] = frozenset()
    version: str = ""
    homophones: dict = field(default_factory=dict)  # str.translate table: names match whatever the spelling
    latin: dict = field(default_factory=dict)  # name key -> the name's usual Latin spelling (scripts without case)
    number_pattern: object = None  # compiled regex: number words made rather than listed (Yoruba méjìdínlógójì)

    def is_number(self, word_key: str) -> bool:
        """A number word: listed, or matching the language's numeral pattern (on the bare letters)."""
        return word_key in self.number or (self.number_pattern is not None and self.number_pattern.search(bare(word_key)) is not None)

    def name_key(self, word: str) -> str:
        """How a name is looked up: casefolded, equal-sounding Ge'ez letters made one."""
        return key(word).translate(self.homophones) if self.homophones else key(word)

    def with_context(self, context: TextContext | None) -> WordClasses:
        if context is None or not (context.names or context.common):
            return self
        names = self.names | {w.translate(self.homophones) for w in context.names}
        return WordClasses(self.function, self.number, names, self.multi_names, self.common | context.common,
                           self.version, self.homophones, self.latin, self.number_pattern)  # fmt: skip


@lru_cache(maxsize=None)
def word_classes(code: str) -> WordClasses:
    """data/words/{code}.tsv (word, class, source); empty classes when the language has none."""
    path = data_dir() / "words" / f"{code}.tsv"
    if not path.exists():
        return WordClasses()
    raw = path.read_bytes()
    from afroadv.langs import registry
    from afroadv.spelling import spelling_for

    lang = registry().get(code)
    table = spelling_for(lang).homophones() if lang is not None else {}
    sets: dict[str, set[str]] = {c: set() for c in CLASSES}
    multi: dict[str, set[tuple[str, ...]]] = {}
    latin: dict[str, str] = {}
    for line in raw.decode("utf-8").splitlines()[1:]:
        word, cls, _, spelled = line.split("\t")
        if cls == "name":
            name = key(word).translate(table)
            if spelled:
                latin[name] = spelled
            if " " in name:
                first, *rest = name.split(" ")
                multi.setdefault(first, set()).add(tuple(rest))
            else:
                sets[cls].add(name)
        elif cls in sets:
            sets[cls].add(key(word))
    return WordClasses(
        function=frozenset(sets["function"]),
        number=frozenset(sets["number"]),
        names=frozenset(sets["name"]),
        multi_names={k: tuple(sorted(v, key=lambda t: (-len(t), t))) for k, v in sorted(multi.items())},
        common=frozenset(sets["common"]),
        version=hashlib.sha256(raw).hexdigest()[:12],
        homophones=table,
        latin=latin,
        number_pattern=number_pattern(code),
    )


def gazetteer(code: str | None = None) -> tuple[dict[str, str], set[str]]:
    """(names to protect -> English spelling, one-word names that are also common words) from the
    reviewed gazetteer (data/names), for one language — or, with None, whatever language it lists
    them for (a language learned from its dataset: a place's or person's name is a name in any
    language written in its script)."""
    path = data_dir() / "names" / "gazetteer.tsv"
    names: dict[str, str] = {}
    common: set[str] = set()
    if not path.exists():
        return names, common
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 7 or cols[5] == "low":
            continue
        name, _, _, langs, english, _, note = cols[:7]
        if code is not None and langs != "all" and code not in [c.strip() for c in langs.split(",")]:
            continue
        if " " not in name and "common word" in note:
            common.add(nfc(name).casefold())
        else:
            names[nfc(name).casefold()] = english
    return names, common


def learned_word_classes(texts, bitext=()) -> WordClasses:
    """The word classes of a language outside the registry, by data/words' rules where they need no
    curated list: in scripts without case, every word the texts use twice is a known word (so a typo
    that spells one is redrawn); names are the gazetteer's, whatever language it lists them for, and —
    given `bitext` (text, English translation) pairs — words without case (and runs of them) that the
    word alignment links to English proper nouns (cased scripts protect capitalised words, learned per
    dataset by TextContext). No function or number words: those are curated per language (digits stay
    protected)."""
    uses: dict[str, int] = {}
    for text in texts:
        for w in split_tokens(nfc(text))[1::2]:
            if uncased(w):
                k = w.casefold()
                uses[k] = uses.get(k, 0) + 1
    common = frozenset(w for w, n in uses.items() if n >= 2)
    found, _ = gazetteer(None)
    found = {**found, **aligned_names(bitext)}
    names = {n for n in found if " " not in n}
    multi: dict[str, set[tuple[str, ...]]] = {}
    for n in found:
        if " " in n:
            first, *rest = n.split(" ")
            multi.setdefault(first, set()).add(tuple(rest))
    h = hashlib.sha256()
    for part in (sorted(names), sorted(" ".join(n) for n in found if " " in n), sorted(common)):
        h.update("\n".join(part).encode("utf-8") + b"\x00")
    return WordClasses(names=frozenset(names),
                       multi_names={k: tuple(sorted(v, key=lambda t: (-len(t), t))) for k, v in sorted(multi.items())},
                       common=common, version=h.hexdigest()[:12])


def aligned_names(bitext) -> dict[str, str]:
    """Words and runs without case that the alignment of (text, English) pairs links to English
    proper nouns (lexicons/induce.py, as the data/words build learns them from NTREX-128)."""
    pairs = [(x, e) for x, e in bitext if any(map(uncased, split_tokens(nfc(x))[1::2]))]
    if not pairs:
        return {}
    from afroadv.lexicons.english import EnglishProfile
    from afroadv.lexicons.induce import align, learn_names

    profile = EnglishProfile([e for _, e in pairs])
    names = learn_names(align([x for x, _ in pairs], [e for _, e in pairs], profile=profile), profile)
    return {key(n): e for n, e in names.items() if all(map(uncased, n.split(" ")))}


def uncased(word: str) -> bool:
    """A word of letters without case (Ge'ez, Arabic ...), not a number."""
    return word.lower() == word.upper() and any(c.isalpha() for c in word)


def bare(text: str) -> str:
    """Letters without their combining marks (ọ́ → o)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=None)
def number_pattern(code: str):
    """data/numbers/{code}.yaml `patterns`, as one regex over bare casefolded letters (None without)."""
    import regex
    import yaml

    path = data_dir() / "numbers" / f"{code}.yaml"
    if not path.exists():
        return None
    patterns = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("patterns") or []
    return regex.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


@dataclass(frozen=True)
class TextContext:
    """What a dataset shows about its own words: capitalised inside sentences (names) or written
    in lower case (common words). Learned from every text of the dataset, so a pair's result does
    not depend on which other pairs are generated with it."""

    names: frozenset[str] = frozenset()
    common: frozenset[str] = frozenset()

    @classmethod
    def learn(cls, texts) -> TextContext:
        """The rule, fast: most texts in one numpy pass (perturb/vector.py), the rest as `learn_plainly`."""
        from afroadv.perturb.vector import learn_context

        texts = [nfc(t) for t in texts]
        capital_inside, lower, rest = learn_context(texts)
        if rest:
            other = cls._collect([texts[i] for i in rest])
            capital_inside |= other[0]
            lower |= other[1]
        return cls(frozenset(w.casefold() for w in capital_inside), frozenset(w.casefold() for w in lower))

    @classmethod
    def learn_plainly(cls, texts) -> TextContext:
        """The rule stated plainly: a word written with a capital inside a sentence (not an acronym)
        is a name; a word written in lower case is a common word."""
        capital_inside, lower = cls._collect([nfc(t) for t in texts])
        return cls(frozenset(w.casefold() for w in capital_inside), frozenset(w.casefold() for w in lower))

    @staticmethod
    def _collect(texts) -> tuple[set[str], set[str]]:
        lower: set[str] = set()  # tokens as written, then casefolded once
        capital_inside: set[str] = set()
        opens: dict[str, bool] = {}  # gap -> does a sentence end in it
        for text in texts:
            parts = split_tokens(text)
            initial = True
            for i in range(1, len(parts), 2):
                gap = parts[i - 1]
                ends = opens.get(gap)
                if ends is None:
                    ends = opens[gap] = ends_sentence(gap)
                w = parts[i]
                first = w[:1]
                if first.islower():
                    lower.add(w)
                elif not (initial or ends) and first.isupper() and not (len(w) > 1 and w.isupper()):
                    capital_inside.add(w)
                initial = False
        return capital_inside, lower

    @property
    def version(self) -> str:
        h = hashlib.sha256()
        for part in (sorted(self.names), sorted(self.common)):
            h.update("\n".join(part).encode("utf-8") + b"\x00")
        return h.hexdigest()[:12]
