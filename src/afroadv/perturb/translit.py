"""Ge'ez → Latin romanisation as Amharic and Tigrinya are typed online when no Ge'ez keyboard is at hand.

A syllable is a consonant (the recipe's table, keyed by the consonant in its Unicode name: ለ is
ETHIOPIC SYLLABLE LA, so L) and the vowel of its order (the recipe's vowel tables). The sixth order
is a bare consonant or consonant + ɨ, and people write the ɨ (as `epenthesis.vowel`) where it is
heard. Ge'ez does not show which, so it is predicted from the consonants of the word:

- word-initially before another consonant: ብዙ bizu, ምን min, ልጆች lijoch;
- word-finally, unless the last two consonants form an allowed final cluster (`final_clusters`: a
  sonorant or s/z/sh/f, then a stop: ሶስት sost, አንድ and, ህዝብ hizb), before the last consonant
  (ፍቅር fikir, ምግብ migib) or before the allowed final pair (ትምህርት timhirt, መንግስት mengist);
- between vowels, in a run of three consonants where the syllable contact (sonority of the coda
  minus that of the next onset) is higher, before the last on a tie (ይቅርታ yikirta, ምክንያት
  mikniyat); in a pair, when the contact is below `min_contact` (ፍቅሬ fikire); in longer runs,
  after the second;
- a glide after a written vowel belongs to it (ዐይን ayn); a gemination mark doubles the consonant,
  and a geminate may end a word (ብር፟ birr).
Gemination is not written in ordinary text, so ትልቅ (tɨllɨq) comes out tilk where people write tilik.
"""

from __future__ import annotations

import random
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import regex

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.text import ETHIOPIC, nfc, word_script

_PREFIX = "ETHIOPIC SYLLABLE "
_RANGES = ((0x1200, 0x137F), (0x1380, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F), (0x1E7E0, 0x1E7FF))
_ORDERS = {"A": 1, "U": 2, "I": 3, "AA": 4, "EE": 5, "E": 6, "O": 7}
_GEMINATE = "\u135d\u135f"  # combining marks that double the consonant (the second also marks length)
_LENGTH = "\u135e"  # vowel length: not typed
_CLOSING = set(".,;:!?)]}»”")  # Latin marks that lean on the word before them
_MAX_CACHE = 200_000
_VOWELS = frozenset("aeiou")


# Ethiopic numerals: ፩–፱ 1–9, ፲–፺ 10–90, ፻ 100, ፼ 10000
_NUMERALS = {chr(0x1369 + i): i + 1 for i in range(9)} | {chr(0x1372 + i): 10 * (i + 1) for i in range(9)}
_NUMERALS |= {"\u137b": 100, "\u137c": 10000}


def ethiopic_number(numeral: str) -> int:
    """The value of a run of Ethiopic numerals (፲፱፻፺ = 19 × 100 + 90 = 1990; ፳፻ = 2000)."""
    total = hundreds = cur = 0
    for ch in numeral:
        v = _NUMERALS[ch]
        if v == 100:
            hundreds += (cur or 1) * 100
            cur = 0
        elif v == 10000:
            total = (total + hundreds + (cur or (0 if hundreds else 1))) * 10000
            hundreds = cur = 0
        else:
            cur += v
    return total + hundreds + cur


def _phonetic(word: str) -> str:
    w = word.casefold().replace("ph", "f").replace("sh", "s").replace("ch", "c").replace("th", "t").replace("c", "k")
    w = w.replace("q", "k").replace("x", "ks").replace("ie", "i").replace("ee", "i").replace("y", "i")
    return regex.sub(r"(.)\1", r"\1", w)


def sounds_alike(romanised: str, english: str) -> bool:
    """A loanword or a name: the romanised Ge'ez and the English word differ in at most a third of
    their sounds once spelling habits are evened out (ፕሮፌሰር profeser ~ professor, ኮሚሽን komishin ~
    commission, ትራምፕ tiramp ~ trump)."""
    from afroadv.attack.core import levenshtein

    a, b = _phonetic(romanised), _phonetic(english)
    return levenshtein(a, b) <= max(len(a), len(b)) / 3


def anchor_spelling(romanised: str, names: tuple[str, ...], epenthetic: str = "") -> str | None:
    """The anchor name a romanised word stands for: one starting with the same sound, the closest
    in sound within 45% (with or without the epenthetic vowels the romaniser added: ክሬግ kireg ~
    Craig), unambiguous, three letters or more. The candidates are few (one sentence's capitalised
    words), so the bar is looser than `sounds_alike`'s: ክቫኗህ kivanwah ~ Kavanaugh. The first
    sound keeps a prefixed word off a name (ንሬንጀርስ nirenjeris "to Rangers" stays as spelled)."""
    from afroadv.attack.core import levenshtein

    plain = _phonetic(romanised)
    if len(plain) < 3:
        return None
    forms = {plain, _phonetic(romanised.replace(epenthetic, ""))} if epenthetic else {plain}
    forms.discard("")
    scored: list[tuple[float, str]] = []
    for name in names:
        target = _phonetic(name)
        if target[:1] != plain[:1] and not (target[:1] in _VOWELS and plain[:1] in _VOWELS):
            continue
        scored.append((min(levenshtein(f, target) / max(len(f), len(target)) for f in forms), name))
    scored.sort()
    if not scored or scored[0][0] > 0.45:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0] and scored[1][1].casefold() != scored[0][1].casefold():
        return None
    return scored[0][1]


class Syllable(NamedTuple):
    consonant: str  # as in the Unicode name: "L", "GLOTTAL", "QH"
    glide: str  # "", "W" (labialised) or "Y" (palatalised)
    order: int  # 1-7


def _core(cp: int) -> str | None:
    """A syllable's Unicode name without the prefix and a leading tag (SEBATBEIT, GURAGE)."""
    try:
        name = unicodedata.name(chr(cp))
    except ValueError:
        return None
    if not name.startswith(_PREFIX):
        return None
    words = name[len(_PREFIX) :].split()
    if len(words) > 1 and words[0] not in _consonants():
        words = words[1:]
    return " ".join(words)


@lru_cache(maxsize=None)
def _consonants() -> frozenset[str]:
    """Consonants with a plain row: every such row has a second-order (…U) syllable."""
    found = set()
    for lo, hi in _RANGES:
        for cp in range(lo, hi + 1):
            try:
                name = unicodedata.name(chr(cp))
            except ValueError:
                continue
            if name.startswith(_PREFIX) and name.endswith("U"):
                found.add(name[len(_PREFIX) : -1].strip())
    return frozenset(found)


@lru_cache(maxsize=None)
def parse_syllable(ch: str) -> Syllable | None:
    """Consonant, glide and order of a Ge'ez syllable, read off its Unicode name; None if not one."""
    cp = ord(ch)
    core = _core(cp)
    if core is None:
        return None
    for cons in sorted((c for c in _consonants() if core.startswith(c)), key=len, reverse=True):
        rest = core[len(cons) :].strip()
        if rest == "OA":  # ሇ ቇ ⶀ: the labialised fourth order
            return Syllable(cons, "W", 4)
        glide = rest[:1] if rest[:1] in ("W", "Y") else ""
        order = _ORDERS.get(rest[len(glide) :])
        if order is None:
            continue
        if glide and order == 1:
            # ቈ (QWA) opens a labialised row (ቊ QWI follows); ሏ (LWA), ፘ (RYA) stand alone as the fourth order
            opens = any(_core(cp + k) == f"{cons}{glide}I" for k in (1, 2, 3))
            order = 1 if opens else 4
        return Syllable(cons, glide, order)
    return None


def _syllable_chars() -> list[str]:
    return [chr(cp) for lo, hi in _RANGES for cp in range(lo, hi + 1) if parse_syllable(chr(cp))]


def _vowel_list(value, what: str) -> list[str]:
    out = [str(v) for v in value]
    if len(out) != 7:
        raise AfroadvError(f"romanize: `{what}` needs 7 vowels (orders 1-7), got {len(out)}")
    return out


@register
class Romanize(Transformation):
    kind = "romanize"

    def __init__(
        self,
        lang: Language,
        consonants: dict | None = None,
        vowels: list | None = None,
        labialised: list | None = None,
        palatalised: list | None = None,
        row_vowels: dict | None = None,
        syllable_vowels: dict | None = None,
        epenthesis: dict | None = None,
        punctuation: dict | None = None,
        english_spellings: bool = True,
    ):
        super().__init__(lang)
        # names and English loanwords are typed the English way online (ትራምፕ → Trump, ፕሮፌሰር → professor)
        self.english_spellings = bool(english_spellings)
        cons = {str(k).upper(): str(v) for k, v in (consonants or {}).items()}
        glides = {
            "": _vowel_list(vowels or ["e", "u", "i", "a", "e", "", "o"], "vowels"),
            "W": _vowel_list(labialised or ["we", "wu", "wi", "wa", "we", "u", "wo"], "labialised"),
            "Y": _vowel_list(palatalised or ["ye", "yu", "yi", "ya", "ye", "i", "yo"], "palatalised"),
        }
        rows = {str(k).upper(): {int(o): str(v) for o, v in row.items()} for k, row in (row_vowels or {}).items()}
        named = {str(k).upper(): str(v) for k, v in (syllable_vowels or {}).items()}
        self.table: dict[str, tuple[str, str]] = {}  # syllable -> (consonant, vowel); vowel "" = bare sixth order
        for ch in _syllable_chars():
            s = parse_syllable(ch)
            latin = cons.get(s.consonant, s.consonant.lower())
            vowel = named.get(unicodedata.name(ch)[len(_PREFIX) :])
            if vowel is None:
                vowel = rows.get(s.consonant, {}).get(s.order) if not s.glide else None
            if vowel is None:
                vowel = glides[s.glide][s.order - 1]
            if not latin + vowel:
                raise AfroadvError(f"romanize: {ch} ({unicodedata.name(ch)}) would be written as nothing")
            self.table[ch] = (latin, vowel)
        e = dict(epenthesis or {})
        self.epenthetic = str(e.get("vowel", ""))
        self.epenthetic_after = {str(k): str(v) for k, v in (e.get("after") or {}).items()}
        self.sonority = {str(k): int(v) for k, v in (e.get("sonority") or {}).items()}
        self.min_contact = int(e.get("min_contact", -99))
        final = e.get("final_clusters") or {}
        self.final_first = frozenset(map(str, final.get("first") or ()))
        self.final_second = frozenset(map(str, final.get("second") or ()))
        self.nucleus_glides = frozenset(map(str, e.get("nucleus_glides") or ()))
        self.punctuation = {str(k): str(v) for k, v in (punctuation or {}).items() if str(k)}
        marks = sorted(self.punctuation, key=len, reverse=True)  # ፡፡ before ፡
        self._marks = regex.compile("|".join(map(regex.escape, marks))) if marks else None
        self._cache: dict[str, str] = {}

    # --- words -----------------------------------------------------------------------------------

    def applies(self, word: str) -> bool:
        return (word_script(word) == ETHIOPIC and any(c in self.table for c in word)) or any(c in _NUMERALS for c in word)

    def apply(self, word: str, rng: random.Random | None = None) -> str:
        out = self._cache.get(word)
        if out is None:
            out = nfc(self._romanise(word))
            if self.english_spellings:
                out = self._english(word, out) or out
            if len(self._cache) < _MAX_CACHE:
                self._cache[word] = out
        return out

    def _english(self, word: str, romanised: str) -> str | None:
        """The English spelling writers use for a name (data/words) or a loanword: an entry of the
        language's lexicon whose English sounds like the romanised word."""
        from afroadv.lexicons.store import load_lexicon
        from afroadv.words import word_classes

        words = word_classes(self.lang.code)
        name = words.latin.get(words.name_key(word))
        if name and sounds_alike(romanised, name):  # (a name list learned from alignments can be noisy)
            return " ".join(w[:1].upper() + w[1:] for w in name.split())
        for english in load_lexicon(self.lang.lexicon).translations(word)[:1]:
            if " " not in english and sounds_alike(romanised, english):
                return english
        return None

    reads_anchor = True

    def apply_beside(self, word: str, rng: random.Random, anchor_names: tuple[str, ...]) -> str:
        """A name spelled as the pair's English side spells it (ክሬግ ሃልከት → Craig Halkett)."""
        if anchor_names and word_script(word) == ETHIOPIC and word.casefold() not in self._function_words:
            found = anchor_spelling(nfc(self._romanise(word)), anchor_names, self.epenthetic)
            if found:
                return found
        return self.apply(word, rng)

    @property
    def _function_words(self) -> frozenset[str]:
        from afroadv.words import word_classes

        return word_classes(self.lang.code).function

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        new = self.apply(word)
        return [new] if new != word else []

    def _romanise(self, word: str) -> str:
        """Each run of syllables is spelled as a word; other characters (digits, apostrophes) stay."""
        out: list[str] = []
        units: list[tuple[str, str]] = []
        numeral = ""
        for ch in word:
            if ch in _NUMERALS:  # Ethiopic numerals are typed as digits: ፲፫ → 13
                out.append(self._spell(units))
                units = []
                numeral += ch
                continue
            if numeral:
                out.append(str(ethiopic_number(numeral)))
                numeral = ""
            if ch in self.table:
                units.append(self.table[ch])
            elif units and ch in _GEMINATE:
                if units[-1][0]:
                    units.insert(len(units) - 1, (units[-1][0], ""))
            elif units and ch == _LENGTH:
                pass
            else:
                out.append(self._spell(units))
                units = []
                out.append(ch)
        out.append(self._spell(units))
        if numeral:
            out.append(str(ethiopic_number(numeral)))
        return "".join(out)

    def _spell(self, units: list[tuple[str, str]]) -> str:
        """Latin for a run of (consonant, vowel) syllables, with the epenthetic vowels."""
        after: set[int] = set()  # units followed by an epenthetic vowel
        n = len(units)
        i = 0
        while self.epenthetic and i < n:
            if units[i][1]:
                i += 1
                continue
            j = i
            while j < n and not units[j][1]:
                j += 1
            cluster = [c for c, _ in units[i:j]]
            if j < n and units[j][0]:
                cluster.append(units[j][0])  # the onset of the next vowel
            first = i
            if i and cluster[0] in self.nucleus_glides and len(cluster) > 1:
                cluster, first = cluster[1:], i + 1  # ay, ew: the glide closes the vowel
            after.update(first + p for p in self._breaks(cluster, i == 0, j == n))
            i = j
        parts = []
        for k, (cons, vowel) in enumerate(units):
            parts.append(cons + vowel)
            if k in after:
                parts.append(self.epenthetic_after.get(cons, self.epenthetic))
        return "".join(parts)

    def _breaks(self, cs: list[str], start: bool, end: bool) -> list[int]:
        """Positions p in a consonant cluster after which ɨ is written (never after its last)."""
        n = len(cs)
        if start and n >= 2:
            return [0, *(1 + p for p in self._breaks(cs[1:], False, end))]
        if end:
            if n <= 1 or (n == 2 and self._final(cs[0], cs[1])):
                return []
            k = n - (2 if n >= 3 and self._final(cs[-2], cs[-1]) else 1)  # first consonant of the coda
            return [*self._breaks(cs[:k], False, False), k - 1]
        if n <= 1:
            return []
        if n == 2:
            return [0] if self._contact(cs[0], cs[1]) < self.min_contact else []
        if n == 3:
            return [1] if self._contact(cs[0], cs[1]) >= self._contact(cs[1], cs[2]) else [0]
        return [1, *(2 + p for p in self._breaks(cs[2:], False, False))]

    def _final(self, a: str, b: str) -> bool:
        return a == b or (a in self.final_first and b in self.final_second)  # a geminate may close a word

    def _contact(self, coda: str, onset: str) -> int:
        return self.sonority.get(coda, 1) - self.sonority.get(onset, 1)

    # --- between words ---------------------------------------------------------------------------

    def rewrite_gap(self, gap: str) -> str:
        """Ethiopic punctuation → Latin. A mark that becomes blank (፡, ፨) leaves one space where it
        alone parted two things, nothing where whitespace or a mark like "." already does."""
        if self._marks is None or not self._marks.search(gap):
            return gap
        pieces: list[tuple[str, bool]] = []  # (text, is a blank-making mark)
        pos = 0
        for m in self._marks.finditer(gap):
            if m.start() > pos:
                pieces.append((gap[pos : m.start()], False))
            new = self.punctuation[m.group()]
            blank = not new.strip()
            if not (blank and pieces and pieces[-1][1] and m.start() == pos):  # a run of blank marks counts once
                pieces.append((new, blank))
            pos = m.end()
        if pos < len(gap):
            pieces.append((gap[pos:], False))
        out: list[str] = []
        for k, (text, blank) in enumerate(pieces):
            if blank:
                before = out[-1][-1:] if out else ""
                nxt = next((i for i in range(k + 1, len(pieces)) if pieces[i][0]), None)
                after = pieces[nxt][0][:1] if nxt is not None else ""
                text = "" if before.isspace() or after.isspace() or after in _CLOSING else " "
                if before.isspace() and after.isspace():  # " ፡ " was one break: keep one space
                    if after == " ":
                        pieces[nxt] = (pieces[nxt][0][1:], False)
                    elif before == " ":
                        out[-1] = out[-1][:-1]
            out.append(text)
        return nfc("".join(out))
