"""What afroadv needs to know about English words on the target side of a lexicon: which are
function words (never inserted by code-switching), lemmas (so "months"/"month" count as one
translation), parts of speech (code-switching inserts nouns), and which are proper names.

Parts of speech and lemmas come from lemminflect's dictionary (MIT; the SPECIALIST lexicon) when
it is installed — a maintainer's build dependency, never imported at run time. A word the
dictionary calls both noun and verb (work, market, school) counts as a noun where an English
corpus mostly uses it after a determiner, possessive, number or preposition.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from afroadv.text import ends_sentence, split_tokens

# Closed-class English: articles, pronouns, prepositions, conjunctions, auxiliaries, wh-words.
FUNCTION_WORDS = frozenset(
    """
    a an the this that these those some any each every either neither no all both another other
    such what which whose whatever whichever who whom whoever whatsoever
    i me my mine myself you your yours yourself yourselves he him his himself she her hers herself
    it its itself we us our ours ourselves they them their theirs themselves one ones
    someone anyone everyone something anything everything nothing nobody somebody anybody
    of in on at to for from by with about into onto upon over under above below between among
    through during before after since until till against without within along across around
    behind beyond near off out up down via per than as like toward towards amid despite except
    and or but nor so yet if because although though while whereas unless whether
    when where why how then there here
    be am is are was were been being have has had having do does did done
    will would shall should can could may might must not
    it's he's she's that's there's what's who's let's i'm you're we're they're i've you've we've
    they've i'll you'll he'll she'll we'll they'll i'd you'd he'd she'd we'd they'd
    don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't couldn't shouldn't
    haven't hasn't hadn't
    also just only very even still again more most less much many few same own
    """.split()
)

NUMBERS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
    billion trillion dozen half first second third fourth fifth sixth seventh eighth ninth tenth""".split()
)

# Words before a noun far more often than before a verb.
_NOUN_LEFT = frozenset(
    """a an the this that these those his her its their our my your some any no every each many
    several few more most of in on at for with by from into about over under between among new
    two three four five six seven eight nine ten""".split()
)
# Words before a verb far more often than before a noun.
_VERB_LEFT = frozenset(
    """to will would can could should must may might shall not n't i you he she we they it who
    did does do don't didn't doesn't has have had has been is are was were also""".split()
)


@lru_cache(maxsize=None)
def _lemminflect():
    try:
        import lemminflect
    except ImportError:  # pragma: no cover - a build dependency
        return None
    return lemminflect


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """Universal POS → lemmas of an English word form ({} when unknown or lemminflect is missing)."""
    lm = _lemminflect()
    return dict(lm.getAllLemmas(word)) if lm else {}


def lemma(word: str) -> str:
    """One lemma: the noun's if the word can be a noun, else the first; the word itself if unknown.
    A possessive is its noun's (children's → child)."""
    for s in ("'s", "’s"):
        if word.endswith(s) and len(word) > len(s):
            word = word[: -len(s)]
    found = lemmas(word)
    for pos in ("NOUN", "VERB", "ADJ", "ADV"):
        if pos in found:
            return found[pos][0]
    return word


@lru_cache(maxsize=None)
def synonyms() -> dict[str, list[str]]:
    """Counter-fitted synonym sets (Mrkšić et al. 2016, shipped in data/robust-xlt): word -> synonyms."""
    import json

    from afroadv.resources import data_dir

    path = data_dir() / "robust-xlt" / "counterfitted_neighbors.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class EnglishProfile:
    """Counts over an English corpus: how a word is cased away from sentence starts (proper names),
    and what stands before it (noun or verb use)."""

    def __init__(self, lines):
        self.count: Counter = Counter()
        self.initial: Counter = Counter()  # sentence-initial uses (capitalised whatever the word)
        self.capital_inside: Counter = Counter()  # capitalised, not sentence-initial
        self.noun_left: Counter = Counter()
        self.verb_left: Counter = Counter()
        for line in lines:
            parts = split_tokens(line)
            prev = None
            for i in range(1, len(parts), 2):
                tok = parts[i]
                low = tok.casefold()
                self.count[low] += 1
                initial = prev is None or ends_sentence(parts[i - 1])
                if initial:
                    self.initial[low] += 1
                elif tok[:1].isupper() and not tok.isupper():
                    self.capital_inside[low] += 1
                if prev in _NOUN_LEFT:
                    self.noun_left[low] += 1
                elif prev in _VERB_LEFT:
                    self.verb_left[low] += 1
                prev = low

    def is_proper(self, word: str, share: float = 0.7) -> bool:
        """Mostly capitalised inside sentences: a name (Trump, Kano, U.S.), not a common word.
        (Sentence starts are capitalised whatever the word, so they do not count.)"""
        n = self.count[word] - self.initial[word]
        return n > 0 and self.capital_inside[word] >= share * n

    def is_noun(self, word: str) -> bool:
        """A noun for code-switching: the dictionary says noun only; or noun and verb, and the corpus
        uses it as a noun; never a word that can be an adjective (young, general, white: the African
        word is then most often the adjective), a number or an ordinal."""
        found = lemmas(word)
        if "NOUN" not in found or word in NUMBERS:
            return False
        if "ADJ" in found and found["NOUN"][0] == word:  # (a plural noun form is no adjective: officials)
            return False
        if "VERB" not in found:
            return True
        n, v = self.noun_left[word], self.verb_left[word]
        return n + v >= 3 and n >= 1.5 * v

    @staticmethod
    def is_verb_only(word: str) -> bool:
        """A form the dictionary knows only as a verb (decided, decide, said)."""
        found = lemmas(word)
        return bool(found) and set(found) == {"VERB"}

    def is_noun_phrase(self, english: str) -> bool:
        """A one-word noun, or a phrase ending in a noun whose other words are nouns or adjectives
        (town hall, married woman) — not a phrasal verb (come back)."""
        words = english.split()
        if len(words) == 1:
            return self.is_noun(words[0])
        if not self.is_noun(words[-1]) and "NOUN" not in lemmas(words[-1]):
            return False
        return all({"NOUN", "ADJ"} & set(lemmas(w)) and "VERB" not in lemmas(w) or w in ("of",) for w in words[:-1])

    def pos(self, word: str) -> str:
        """noun | verb | adj | adv | other (for the lexicon's `pos` column; a phrase: noun or other)."""
        if " " in word:
            return "noun" if self.is_noun_phrase(word) else "other"
        if self.is_noun(word):
            return "noun"
        found = lemmas(word)
        for tag in ("VERB", "ADJ", "ADV", "NOUN"):
            if tag in found:
                return tag.lower()
        return "other"
