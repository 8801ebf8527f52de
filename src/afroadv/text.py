"""Text segmentation that never loses a character: words, protected spans and everything between.

Perturbers only ever rewrite word segments; joining the segments gives back the input exactly.
Grapheme clusters (a base letter with its combining tone marks) are the unit of character edits,
so a Yoruba ọ̀ is never split from its marks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

WORD = "word"
PROTECTED = "protected"
OTHER = "other"

_PROTECTED = (
    r"(?:https?://|www\.)\S+"  # URLs
    r"|[\w.+-]+@[\w-]+\.[\w.-]+"  # e-mail addresses
    r"|[@#][\p{L}\p{M}\p{N}_]+"  # @user, #hashtag
)
_WORD_CHAR = r"[\p{L}\p{M}\p{N}]"
APOSTROPHES = "'’ʼ"  # join two runs of word characters into one word (l'eau, n'abandi)
_WORD = rf"{_WORD_CHAR}+(?:[{APOSTROPHES}]{_WORD_CHAR}+)*"
_SPLIT_RE = regex.compile(rf"({_PROTECTED}|{_WORD})")
_SPLIT_WORDS_RE = regex.compile(rf"({_WORD})")
_PROTECTED_RE = regex.compile(rf"(?:{_PROTECTED})\Z")
_DIGIT_RE = regex.compile(r"\p{N}")
_SENTENCE_END = set(".!?።፧፨؟\n\t\"“”«»:")
_GRAPHEME_RE = regex.compile(r"\X")
_WORD_CHAR_RE = regex.compile(_WORD_CHAR)


def nfc(text: str) -> str:
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str  # WORD, PROTECTED or OTHER
    sentence_initial: bool = False


def split_tokens(text: str) -> list[str]:
    """The fast path: [gap, token, gap, token, ..., gap]; tokens (odd indices) are words or protected spans."""
    if "@" in text or "#" in text or "://" in text or "www." in text:
        return _SPLIT_RE.split(text)
    return _SPLIT_WORDS_RE.split(text)  # no protected span possible: the cheaper pattern gives the same split


def is_protected_token(token: str) -> bool:
    return (token[:1] in "@#hw" or "@" in token) and _PROTECTED_RE.match(token) is not None


def ends_sentence(gap: str) -> bool:
    return any(c in _SENTENCE_END for c in gap)


def segment(text: str) -> list[Segment]:
    """The slow, descriptive view of `split_tokens`: segments whose concatenation is exactly `text`."""
    out: list[Segment] = []
    initial = True
    for i, part in enumerate(split_tokens(text)):
        if i % 2 == 0:
            if part:
                out.append(Segment(part, OTHER))
            initial = initial or ends_sentence(part)
        else:
            out.append(Segment(part, PROTECTED if is_protected_token(part) else WORD, sentence_initial=initial))
            initial = False
    return out


def words(text: str) -> list[str]:
    return [t for t in split_tokens(text)[1::2] if not is_protected_token(t)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word `words(text)` returns, in order: where an edit of the n-th word goes."""
    out = []
    pos = 0
    for i, part in enumerate(split_tokens(text)):
        if i % 2 and not is_protected_token(part):
            out.append((pos, pos + len(part)))
        pos += len(part)
    return out


def is_word_char(c: str) -> bool:
    """A character split_tokens puts inside words (letters, marks, numbers)."""
    return _WORD_CHAR_RE.match(c) is not None


def has_digit(word: str) -> bool:
    return _DIGIT_RE.search(word) is not None


def name_flags(word: str) -> tuple[bool, bool]:
    """(capitalised, acronym): a capitalised word is a likely name unless it starts a sentence."""
    cap = word[:1].isupper()
    return cap, cap and len(word) > 1 and word.isupper()


def has_inner_capital(word: str) -> bool:
    """A capital after the first letter of a word not all in capitals: a name with a prefix
    (uZuma, eThekwini, kaKavanaugh) or a brand (iPhone, McDonald)."""
    return any(c.isupper() for c in word[1:]) and not word.isupper()


def looks_like_name(seg: Segment) -> bool:
    """Capitalised mid-sentence words and acronyms: probably names, left alone."""
    cap, acronym = name_flags(seg.text)
    return acronym or (cap and not seg.sentence_initial)


def graphemes(word: str) -> list[str]:
    return list(_graphemes(word))


@lru_cache(maxsize=65536)
def _graphemes(word: str) -> tuple[str, ...]:
    return tuple(_GRAPHEME_RE.findall(word))


# --- scripts ---------------------------------------------------------------------------------

ETHIOPIC = "Ethiopic"
ARABIC = "Arabic"
LATIN = "Latin"
OTHER_SCRIPT = "Other"
ISO_15924 = {LATIN: "Latn", ARABIC: "Arab", ETHIOPIC: "Ethi"}  # the scripts afroadv has letter rules for
_SCRIPT_TAGS = {**ISO_15924, "Tifinagh": "Tfng", "Cyrillic": "Cyrl"}


def language_tag(code: str, script: str | None) -> str:
    """`hau` in Latin -> `hau-Latn` (ISO 639-3 + ISO 15924, as MTEB tags languages); Zyyy when unknown."""
    return f"{code}-{_SCRIPT_TAGS.get(script or '', 'Zyyy')}"

_ETHIOPIC_RANGES = ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F), (0x1E7E0, 0x1E7FF))
_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_LATIN_RANGES = ((0x0041, 0x024F), (0x0250, 0x02AF), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF))


def _in(cp: int, ranges) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


@lru_cache(maxsize=8192)
def char_script(ch: str) -> str:
    cp = ord(ch)
    if _in(cp, _ETHIOPIC_RANGES):
        return ETHIOPIC
    if _in(cp, _ARABIC_RANGES):
        return ARABIC
    if _in(cp, _LATIN_RANGES) and ch.isalpha():
        return LATIN
    return OTHER_SCRIPT


@lru_cache(maxsize=65536)
def word_script(word: str) -> str:
    """The script of a word's first letter (marks and digits do not decide)."""
    for ch in word:
        if ch.isalpha():
            return char_script(ch)
    return OTHER_SCRIPT


def match_case(template: str, word: str) -> str:
    """Give `word` the capitalisation pattern of `template` (lower, Title or UPPER)."""
    if not template or not word:
        return word
    if len(template) > 1 and template.isupper():
        return word.upper()
    if template[0].isupper():
        return word[:1].upper() + word[1:]
    return word


def anchor_names(anchor: str) -> tuple[str, ...]:
    """The capitalised Latin words of an anchor text, at least three letters long (names, places,
    acronyms and the sentence's first word — the sound match decides), possessive 's dropped."""
    words = (regex.sub(r"['’]s$", "", w) for w in regex.findall(r"\p{Latin}[\p{Latin}\p{M}'’-]*", anchor))
    return tuple(dict.fromkeys(w for w in words if w[:1].isupper() and len(w) >= 3))
