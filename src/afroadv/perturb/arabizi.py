"""Arabic-script dialect text typed in Arabizi, the Latin chat alphabet (كيفاش → kifach, قلبي → 9lbi).

The conventions are data per region (data/arabizi/{region}.yaml, languages mapped to regions in
data/arabizi/regions.yaml): Maghrebi writers type ش as ch and ق as 9, Egyptian writers ش as sh,
خ as 5 and ق as 2. Letters are typed as the region says; و and ي are vowels (ou/o, i) between
consonants and glides (w, y) at the start of a word, doubled, before ا or after a typed a; alef and its hamza
seats are the vowel they carry; ال is the region's article (l, el); harakat, where a text has them,
are vowels. Short vowels the Arabic script leaves out stay out, as in much real Arabizi (mzyan, bzaf).

Numbers stay distinguishable: digits inside a word are letters (3la, m7md), a token of digits is a
number, and the recipe protects numbers; a word that would be digits alone (ع → 3) gets the region's
vowel after it (3a), so it never reads as a number.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from functools import lru_cache

import regex
import yaml

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import Transformation, register
from afroadv.resources import data_dir
from afroadv.text import ARABIC, char_script

_HARAKAT = {"\u064e": "fatha", "\u0650": "kasra", "\u064f": "damma", "\u0651": "shadda"}
_SILENT = {"\u0640", "\u0652", "\u064b", "\u064c", "\u064d", "\u0653", "\u0654", "\u0655", "\u0670"}  # tatweel, sukun, tanwin …
_ALEFS = "اأإآ"
_VOWEL_ONLY = set("اآى")  # letters that are a vowel and nothing else (ة is at the end: no letter follows)


@lru_cache(maxsize=None)
def _regions() -> tuple[dict, bytes]:
    raw = (data_dir() / "arabizi" / "regions.yaml").read_bytes()
    return yaml.safe_load(raw.decode("utf-8")), raw


def refusal(lang: Language) -> str | None:
    """Why the arabizi recipe has no conventions for a language, or None."""
    regions = _regions()[0]["languages"]
    if lang.code not in regions:
        return f"no Arabizi conventions are recorded for {lang.code} (data/arabizi/regions.yaml knows {', '.join(sorted(regions))})"
    return None


@lru_cache(maxsize=None)
def load_region(code: str) -> tuple[str, dict, dict[str, str], str]:
    """(region, its conventions, punctuation map, version of the files) for a language."""
    regions, raw_regions = _regions()
    region = regions["languages"][code]
    raw = (data_dir() / "arabizi" / f"{region}.yaml").read_bytes()
    version = hashlib.sha256(raw_regions + raw).hexdigest()[:12]
    return region, yaml.safe_load(raw.decode("utf-8")), dict(regions.get("punctuation") or {}), version


_SKELETON_PAIRS = (("ph", "f"), ("th", "t"), ("sh", "s"), ("ch", "s"), ("ck", "k"), ("gh", "k"), ("kh", "k"))
_SKELETON_LETTERS = str.maketrans("pvcqgzx", "bfkkksk")  # sounds Arabic spells with one letter (p b, v f)


def skeleton(word: str) -> str:
    """A name's consonants as Arabic script keeps them: first letter, then consonants with the
    sounds Arabic merges merged (Palin ~ bilin → bln, Waters ~ woutrz → wtrs)."""
    w = word.casefold()
    for a, b in _SKELETON_PAIRS:
        w = w.replace(a, b)
    w = regex.sub(r"c(?=[eiy])", "s", w).translate(_SKELETON_LETTERS)
    w = regex.sub(r"[^a-z]", "", w)
    w = w[:1] + regex.sub(r"[aeiouyw]", "", w[1:])
    return regex.sub(r"(.)\1", r"\1", w)


def same_skeleton(romanised: str, names: tuple[str, ...]) -> str | None:
    """The one anchor name whose consonant skeleton is the romanised word's (three consonants or
    more), or within one edit of it (five or more): a name typed back from its Arabic spelling.
    Hyphenated names are left out: the Arabic splits them into parts."""
    from afroadv.attack.core import levenshtein

    mine = skeleton(romanised)
    if len(mine) < 3:
        return None
    found = {n for n in names if "-" not in n and (theirs := skeleton(n))[:1] == mine[:1]
             and (theirs == mine or (len(mine) >= 5 and levenshtein(theirs, mine) <= 1))}
    return found.pop() if len(found) == 1 else None


@register
class Arabizi(Transformation):
    """An Arabic-script word typed in the region's Latin chat alphabet: شحال → ch7al (Maghrebi)."""

    kind = "arabizi"
    learnable = True  # conventions are keyed by language code (data/arabizi/regions.yaml), registered or not

    def __init__(self, lang: Language, lone_digit_vowel: str = "a"):
        super().__init__(lang)
        why = refusal(lang)
        if why:
            raise AfroadvError(why)
        self.region, spec, self.punctuation, self.version = load_region(lang.code)
        self.letters = {str(k): str(v) for k, v in spec["letters"].items()}
        self.vowels = {str(k): (str(v["vowel"]), str(v["glide"])) for k, v in spec["vowels"].items()}
        self.alef = {str(k): str(v) for k, v in spec["alef"].items()}
        self.alef_medial = {str(k): str(v) for k, v in (spec.get("alef_medial") or {}).items()}
        self.hamza = {str(k): str(v) for k, v in spec["hamza"].items()}
        self.article = str(spec["article"])
        self.sun_letters = str(spec.get("article_sun_letters") or "")
        self.final_ha = spec.get("final_ha")  # None: ه is h everywhere
        self.words = {unicodedata.normalize("NFC", str(k)): str(v) for k, v in (spec.get("words") or {}).items()}
        self.harakat = {k: str(v) for k, v in spec["harakat"].items()}
        self.lone_digit_vowel = str(lone_digit_vowel)

    def applies(self, word: str) -> bool:
        """A word with Arabic letters, all of which the region types (a rare letter it has no
        convention for, such as ػ, keeps its word in Arabic script)."""
        if not any(char_script(c) == ARABIC and c.isalpha() for c in word):
            return False
        new = self.romanise(word)
        return new != word and not any(char_script(c) == ARABIC and c.isalpha() for c in new)

    def apply(self, word: str, rng: random.Random | None = None) -> str:
        return self.romanise(word)

    reads_anchor = True

    def apply_beside(self, word: str, rng: random.Random, anchor_names: tuple[str, ...]) -> str:
        """A name typed as the pair's English side spells it (ترامب → Trump, not tramb): chat writers
        type a foreign name in its own Latin spelling, not back from its Arabic one. Only words of
        four letters or more without the article, matched by consonant skeleton to a capitalised
        English word that is not a stop word (a sentence's first word: تدريس tdris ≠ This); a looser
        match by sound (translit's) took أگريب agrib "nearly" for Auris in review."""
        new = self.romanise(word)
        if len(new) >= 4 and not word.startswith("ال") and anchor_names:
            from afroadv.langs import load_stopwords

            english = load_stopwords("eng")
            names = tuple(n for n in anchor_names if n.casefold() not in english)
            found = same_skeleton(new, names)
            if found:
                return found
        return new

    def candidates(self, word: str, rng: random.Random, n: int) -> list[str]:
        return [self.romanise(word)] if self.applies(word) else []

    @lru_cache(maxsize=65536)  # noqa: B019 (one instance per perturber; words repeat)
    def romanise(self, word: str) -> str:
        chars = [unicodedata.normalize("NFKC", c) if 0xFB50 <= ord(c) <= 0xFEFF else c for c in word]
        w = "".join(chars)
        out: list[str] = []
        if w in self.words:
            return self.words[w]
        prefix = ""
        if w.startswith("ال") and sum(c.isalpha() for c in w) > 3:  # (الا illa, الى ila are words: data)
            prefix, w = self.article, w[2:]
            if w[0] in self.sun_letters and len(self.letters.get(w[0], "")) == 1:  # ال before a sun letter: its sound
                prefix = self.letters[w[0]]  # doubles (nnas); a digraph does not (الشركة chrka, not chchrka)
        letters = [c for c in w]
        consonant, consonant_at = "", 0  # the last consonant typed, and where (for shadda)
        for i, c in enumerate(letters):
            prev = letters[i - 1] if i else ""
            nxt = letters[i + 1] if i + 1 < len(letters) else ""
            first = i == 0  # (after the article too: اليوم lyoum)
            if c in _SILENT:
                continue
            if c in _HARAKAT:
                kind = _HARAKAT[c]
                if kind == "shadda":  # doubles the consonant it sits on (NFC puts a vowel mark before it)
                    if self.harakat.get("shadda") == "double" and consonant and len(consonant) == 1:
                        out.insert(consonant_at + 1, consonant)
                else:
                    out.append(self.harakat.get(kind, ""))
                continue
            if c in self.vowels:
                vowel, glide = self.vowels[c]
                before = "".join(out)[-1:] if out else prefix[-1:]
                # a glide at the start, doubled (تغيير tghyir), before a letter that is only a vowel
                # (ديال dyal) or after a typed a (داير dayr); a vowel otherwise (كيفاش kifach)
                glide_here = first or nxt == c or (prev != c and (nxt in _VOWEL_ONLY or before == "a"))
                out.append(glide if glide_here else vowel)
            elif c in self.alef:
                out.append(self.alef_medial.get(c, self.alef[c]) if i else self.alef[c])
            elif c in self.hamza:
                out.append(self.hamza[c])
            elif c == "ه" and self.final_ha is not None and not nxt and i >= 2 and (
                    (prev in self.letters and prev != "ت") or (prev == "ي" and len(letters) >= 5)):  # -يه: -iya (لامريكيه)
                out.append(str(self.final_ha))  # the -a ending spelled ه (صحه ss7a)
            elif c in self.letters:
                consonant, consonant_at = self.letters[c], len(out)
                out.append(consonant)
            elif char_script(c) == ARABIC and not c.isalpha():
                out.append("")  # other Arabic marks (Quranic annotation signs)
            else:
                out.append(c)  # Latin letters, digits, apostrophes: as they are
        new = regex.sub(r"(\p{Latin})\1\1+", r"\1\1", prefix + "".join(out))  # ط ت with shadda: 7ttou, not 7tttou
        if not new or new.isdigit():  # ع alone is 3a, not the number 3 (a lone unpronounced hamza: the vowel)
            new += self.lone_digit_vowel
        return new

    def rewrite_gap(self, gap: str) -> str:
        return "".join(self.punctuation.get(c, c) for c in gap)

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"arabizi": f"{self.region}@{self.version}"}
