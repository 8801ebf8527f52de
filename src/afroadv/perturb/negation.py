"""Negation: one clause of a sentence negated by reviewed per-language rules (data/negation/<lang>.yaml,
each file citing the grammars it follows), so the pair's meaning is reversed and its similarity
should fall (CheckList's negation test, Ribeiro et al. 2020). Only sentences where a rule applies are
eligible; one clause (or verb) is negated per sentence.

Two kinds of rule, as languages mark negation:
- `clause` (Afrikaans nie … nie, Hausa ba … ba): a trigger word — a finite verb or a person-aspect
  pronoun — gets a negator inserted after it or is replaced by its negative form, and a clause-final
  negator closes the clause (before its punctuation or the next clause-opening word);
- `verb_prefix` (Swahili): one verb word takes the negative subject prefix and tense (alisoma →
  hakusoma, wanasema → hawasemi), only for verb stems the file lists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import yaml

from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.perturb.base import register
from afroadv.perturb.sentence import SentenceEdit, Site, Tokens
from afroadv.resources import data_dir
from afroadv.text import match_case, nfc

_STRONG_END = set(";:.!?\"“”«»…\n\t።፧፨؟")  # always ends a clause
_WEAK_END = set(",()[]–—፣፤،")  # ends one only when a clause follows (not inside a list: "malami, mata da yara")


def _words(value) -> frozenset[str]:
    return frozenset(nfc(str(w)).casefold() for w in value or [])


@dataclass(frozen=True)
class Trigger:
    word: str
    next: frozenset[str] = frozenset()  # the trigger applies only before one of these (empty: any)
    replace: str = ""  # the trigger's negative form ("" keeps the trigger)
    insert: str = ""  # a negator put after the trigger (after a pronoun that follows it)
    final: bool = True  # the clause also gets the closing negator


@dataclass(frozen=True)
class ClauseRules:
    triggers: dict  # word -> tuple of Trigger, most specific first
    final: str
    collapse_final: bool
    max_before: int
    skip_after: frozenset[str]
    negative: frozenset[str]
    subordinators: frozenset[str]
    blocked_after: frozenset[str]
    boundaries: frozenset[str]
    clause_markers: frozenset[str]  # words that show a clause (a verb, a person-aspect pronoun)
    prepositions: frozenset[str]  # a boundary word right after one is a noun (a lokacin: "at the time")
    comma_needs_clause: bool  # a comma ends a clause only when a clause marker follows (else always)
    fronted: frozenset[str]  # a clause opening with one puts its subject after the verb (inversion)
    coordinators: frozenset[str]  # clause-initial words that do not count as its opening (maar, want)
    skip_questions: bool


@dataclass(frozen=True)
class PrefixRules:
    subjects: tuple  # (affirmative prefix, negative prefix), longest first
    tenses: dict  # tense marker -> (negative marker, final vowel to i?, keep the ku of a monosyllabic verb?)
    object_markers: tuple
    monosyllabic: frozenset[str]
    verbs: frozenset[str]


def _path(code: str):
    return data_dir() / "negation" / f"{code}.yaml"


def negation_refusal(lang: Language) -> str | None:
    if not _path(lang.code).exists():
        return f"no negation rules for {lang.code} (data/negation/<lang>.yaml)"
    return None


@lru_cache(maxsize=None)
def load_rules(code: str) -> tuple[ClauseRules | PrefixRules, str]:
    """The language's rules and the file's sha256 prefix; a malformed file is one AfroadvError."""
    import hashlib

    path = _path(code)
    raw = path.read_bytes()
    where = f"data/negation/{code}.yaml"
    try:
        spec = yaml.safe_load(raw.decode("utf-8")) or {}
        if not spec.get("sources") or not all(isinstance(x, str) for x in spec["sources"]):
            raise ValueError("every rule file cites its sources (`sources:`, a list of references)")
        kind = spec.get("kind")
        if kind == "clause":
            triggers: dict[str, list[Trigger]] = {}
            for t in spec["triggers"]:
                unknown = set(t) - {"word", "next", "replace", "insert", "final"}
                if unknown or "word" not in t or not (t.get("replace") or t.get("insert")):
                    raise ValueError(f"trigger {t!r} needs word and replace or insert (only those, next, final)")
                trig = Trigger(nfc(str(t["word"])).casefold(), _words(t.get("next")), nfc(str(t.get("replace") or "")),
                               nfc(str(t.get("insert") or "")), bool(t.get("final", True)))  # fmt: skip
                triggers.setdefault(trig.word, []).append(trig)
            rules = ClauseRules(
                {w: tuple(sorted(ts, key=lambda t: not t.next)) for w, ts in triggers.items()},
                nfc(str(spec["final"])), bool(spec.get("collapse_final", False)), int(spec.get("max_before", 5)),
                _words(spec.get("skip_after")), _words(spec.get("negative")), _words(spec.get("subordinators")),
                _words(spec.get("blocked_after")), _words(spec.get("boundaries")), _words(spec.get("clause_markers")),
                _words(spec.get("prepositions")), bool(spec.get("comma_needs_clause", True)), _words(spec.get("fronted")),
                _words(spec.get("coordinators")), bool(spec.get("skip_questions", True)),
            )  # fmt: skip
        elif kind == "verb_prefix":
            tenses = {}
            for marker, t in spec["tenses"].items():
                if t.get("final") not in ("i", "keep") or t.get("ku") not in ("keep", "drop"):
                    raise ValueError(f"tense {marker!r}: final must be i or keep, ku keep or drop")
                tenses[str(marker)] = (str(t.get("negative") or ""), t["final"] == "i", t["ku"] == "keep")
            subjects = tuple(sorted(((str(a), str(n)) for a, n in spec["subjects"].items()), key=lambda x: -len(x[0])))
            rules = PrefixRules(subjects, tenses, tuple(sorted(map(str, spec["object_markers"]), key=lambda m: -len(m))),
                                _words(spec["monosyllabic"]), _words(spec["verbs"]))  # fmt: skip
        else:
            raise ValueError(f"kind must be clause or verb_prefix, got {kind!r}")
    except (KeyError, TypeError, ValueError, AttributeError, yaml.YAMLError) as e:
        raise AfroadvError(f"{where}: {type(e).__name__}: {e}") from None
    return rules, hashlib.sha256(raw).hexdigest()[:12]


@register
class Negation(SentenceEdit):
    """Afrikaans `Die kos is goed.` → `Die kos is nie goed nie.`; Hausa `Sun tafi kasuwa.` → `Ba su
    tafi kasuwa ba.`; Swahili `Alisoma kitabu.` → `Hakusoma kitabu.`"""

    kind = "negation"

    def __init__(self, lang: Language, **params):
        super().__init__(lang, **params)
        why = negation_refusal(lang)
        if why:
            raise AfroadvError(why)
        self.rules, self.version = load_rules(lang.code)

    @property
    def resource_versions(self) -> dict[str, str]:
        return {"negation": f"{self.lang.code}@{self.version}"}

    def sites(self, toks: Tokens) -> list[Site]:
        if isinstance(self.rules, PrefixRules):
            return [Site(i, i + 1, new) for i, tok in enumerate(toks.tokens)
                    if not toks.protected(i) and (new := self.negative_verb(tok)) is not None]  # fmt: skip
        return self._clause_sites(toks)

    # --- clause rules (Afrikaans, Hausa) ---

    def _clauses(self, toks: Tokens) -> list[tuple[int, int, bool]]:
        """(first, one past last, ends at a comma or clause-opening word) token of each clause. Sentence punctuation always divides; a comma,
        dash or bracket, or a clause-opening word (not right after a preposition), divides only when
        a clause follows it — a clause marker before the next punctuation — so a list or an apposition
        (kashe mutum 10 a ƙauyen Yasore, jihar Katsina) stays in its clause."""
        r, out, start = self.rules, [], 0
        folded = [t.casefold() for t in toks.tokens]
        n = len(folded)
        ends = []
        for i in range(1, n):
            gap = toks.gap_before(i)
            if gap in (",", ".") and folded[i - 1].isdigit() and folded[i].isdigit():
                ends.append(None)  # 50,000 · 3.5: one number
            elif gap.startswith(".") and len(folded[i - 1]) == 1 and toks.tokens[i - 1].isupper():
                ends.append(None)  # an initial (André P. Brink)
            elif any(c in _STRONG_END for c in gap):
                ends.append("strong")
            elif any(c in _WEAK_END for c in gap):
                ends.append("weak")
            elif folded[i] in r.boundaries and folded[i - 1] not in r.prepositions:
                ends.append("word")
            else:
                ends.append(None)
        for i in range(1, n):
            kind = ends[i - 1]
            if kind is None:
                continue
            if kind == "word" or (kind == "weak" and r.comma_needs_clause):
                stop = next((j for j in range(i + 1, n) if ends[j - 1] in ("strong", "weak")), n)
                if not any(w in r.clause_markers for w in folded[i:stop]):
                    continue
            out.append((start, i, kind != "strong"))
            start = i
        if folded:
            out.append((start, n, False))
        return out

    def _clause_sites(self, toks: Tokens) -> list[Site]:
        r = self.rules
        text_end = "".join(toks.parts[-1:]).strip()
        if r.skip_questions and ("?" in text_end or "؟" in text_end):
            return []
        folded = [t.casefold() for t in toks.tokens]
        out = []
        for first, end, soft_end in self._clauses(toks):
            words = folded[first:end]
            if any(w in r.negative for w in words) or any(toks.protected(i) for i in range(first, end)):
                continue
            for i in range(first, min(end, first + r.max_before + 1)):
                if folded[i] in r.subordinators:
                    break  # a subordinate clause, a relative or a focus: not the main clause's verb
                found = self._trigger(folded, i, end)
                if found is None:
                    continue
                blocked = any(w in r.blocked_after for w in folded[i + 1 : end])
                # a subordinate clause after the verb may run on past a comma: where the negator closes is unsure
                blocked = blocked or (soft_end and any(w in r.subordinators for w in folded[i + 1 : end]))
                # the trigger is followed by its clause (a verb-final trigger is a subordinate clause's); after a
                # fronted phrase (inversion: Op die vlak word verhale ...) only a pronoun subject may follow it
                opening = next((j for j in range(first, i) if folded[j] not in r.coordinators), i)
                inverted = opening < i and folded[opening] in r.fronted and folded[i + 1 : i + 2] != [] \
                    and folded[i + 1] not in r.skip_after
                if not blocked and i + 1 < end and not inverted:
                    out.append(Site(i, end, found))
                break
        return out

    def _trigger(self, folded: list[str], i: int, end: int) -> Trigger | None:
        for t in self.rules.triggers.get(folded[i], ()):
            if not t.next or (i + 1 < end and folded[i + 1] in t.next):
                return t
        return None

    def edit(self, toks: Tokens, site: Site, rng: random.Random, own: frozenset[str],
             avoid: frozenset[str] = frozenset()) -> str:
        if isinstance(self.rules, PrefixRules):
            return site.data
        r, t = self.rules, site.data
        words = list(toks.tokens[site.start : site.end])
        gaps = [toks.gap_before(j) for j in range(site.start + 1, site.end)]  # between the words
        words[0] = match_case(words[0], t.replace) if t.replace else words[0]
        last_is_negator = False
        if t.insert:
            at = 1
            while at < len(words) and words[at].casefold() in r.skip_after:
                at += 1  # after the pronouns and sentence adverbs that precede the negator
            words.insert(at, t.insert)
            gaps.insert(at - 1, " ")
            last_is_negator = at == len(words) - 1
        if t.final and not (r.collapse_final and last_is_negator):
            words.append(r.final)
            gaps.append(" ")
        return "".join(w + (gaps[j] if j < len(gaps) else "") for j, w in enumerate(words))

    # --- verb prefix rules (Swahili) ---

    def negative_verb(self, word: str) -> str | None:
        """The negative of an affirmative verb form the rules cover, else None."""
        r = self.rules
        low = word.casefold()
        if not low.isalpha():
            return None
        for subject, negative in r.subjects:
            if not low.startswith(subject):
                continue
            for marker, (neg_marker, final_i, keep_ku) in r.tenses.items():
                if not low.startswith(subject + marker):
                    continue
                rest = low[len(subject) + len(marker) :]
                stem = self._stem(rest, keep_ku)
                if stem is None:
                    continue
                if final_i and stem.endswith("a"):
                    stem = stem[:-1] + "i"
                return match_case(word, negative + neg_marker + stem)
        return None

    def _stem(self, rest: str, keep_ku: bool) -> str | None:
        """What follows the tense marker in the negative (object prefix + verb stem), or None if not a known verb."""
        r = self.rules
        if rest.startswith("ku") and rest[2:] in r.monosyllabic:
            return rest if keep_ku else rest[2:]
        for om in ("", *r.object_markers):
            if rest.startswith(om) and rest[len(om) :] in r.verbs:
                return rest
        return None
