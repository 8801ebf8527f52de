"""A name replaced by another name of the same kind — a person by a person, a place by a place — so
the sentence now speaks of someone or somewhere else and the pair's similarity should fall
(CheckList's "change names / locations" directional test, Ribeiro et al. 2020).

Names it may replace: persons and places of the reviewed gazetteer (data/names/gazetteer.tsv) for
the language and its script, and — from the set's own texts — the capitalised words right after a
cue word of known kind (data/names/cues.yaml: Hausa jihar Kano, Shugaba Muhammadu Buhari).
Replacements come from the same two sources, by how often the set uses them, and are never the
name itself nor share a word with the record (Muhammadu Buhari → Buhari is not a change). A name
after a cue of a group (Hausa jihar "state", garin "town", ƙasar "country") is replaced by one the
set writes after a cue of the same group, where the set holds at least three (jihar Kano → jihar
Borno, not jihar Ghana); otherwise by any name of its kind.

In a pair only a shared name is replaced (sentence.py): one the other side also writes — a word of
the name written with a capital there (Muhammadu Buhari ~ Buhari, Buhari's), or, for a gazetteer
name, a word of its English spelling (Najeriya ~ Nigeria, for a bitext pair's English side) — and
this side writes only there. A pair sharing no name is not eligible.
"""

from __future__ import annotations

import random
from functools import lru_cache

import regex
import yaml

from afroadv.perturb.base import register
from afroadv.perturb.sentence import SentenceEdit, Site, Tokens
from afroadv.perturb.wordswap import SetWords
from afroadv.resources import data_dir
from afroadv.text import match_case, nfc, split_tokens

KINDS = ("person", "place")
_MIN_GROUP = 3  # names a cue group needs in the set before replacements come from it alone


@lru_cache(maxsize=None)
def gazetteer_names(code: str, script: str) -> dict[tuple[str, ...], tuple[str, str, str]]:
    """casefolded name tokens -> (kind, spelling, English spelling), for the gazetteer's persons and
    places of this language and script."""
    path = data_dir() / "names" / "gazetteer.tsv"
    out: dict[tuple[str, ...], tuple[str, str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 6 or cols[2] not in KINDS or cols[5] == "low" or cols[1] != script:
            continue
        if cols[3] != "all" and code not in [c.strip() for c in cols[3].split(",")]:
            continue
        out[tuple(nfc(cols[0]).casefold().split())] = (cols[2], nfc(cols[0]), nfc(cols[4]))
    return out


@lru_cache(maxsize=None)
def name_cues(code: str) -> tuple[dict[str, tuple[str, str]], dict[str, int]]:
    """(cue word (casefolded) -> (kind, group) of the name after it, kind -> most words such a name
    has), from data/names/cues.yaml; a kind given as a list of cues is one group named as the kind."""
    raw = yaml.safe_load((data_dir() / "names" / "cues.yaml").read_text(encoding="utf-8")) or {}
    spec = raw.get(code) or {}
    longest = {kind: int((spec.get("max_words") or {}).get(kind, 1)) for kind in KINDS}
    cues = {}
    for kind in KINDS:
        groups = spec.get(kind) or {}
        for group, words in (groups.items() if isinstance(groups, dict) else [(kind, groups)]):
            cues.update({nfc(str(w)).casefold(): (kind, str(group)) for w in words})
    return cues, longest


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _name_word(token: str) -> str | None:
    """A token's key as a word of a name — casefolded, a possessive 's dropped — when it is written as
    names are (a capital first, or a script without case), else None."""
    if not (token[:1].isupper() or (token[:1].isalpha() and token.lower() == token.upper())):
        return None
    return regex.sub(r"['’]s$", "", token).casefold()


@register
class EntitySwap(SentenceEdit):
    """`a jihar Kano` → `a jihar Kaduna`; `Shugaba Muhammadu Buhari` → `Shugaba Peter Obi`."""

    kind = "entityswap"
    learns_from_set = True
    pair_aware = True

    def __init__(self, lang, **params):
        super().__init__(lang, **params)
        self.known = gazetteer_names(lang.code, lang.script)
        self.cues, self.cued_words = name_cues(lang.code)
        self.longest = max((len(k) for k in self.known), default=0)
        self.learn_set([])

    def learn_set(self, texts) -> None:
        """Replacement pools per kind: the gazetteer's names once each, plus every name the set's
        texts use (gazetteer or cued) as often as they use it."""
        spelled: dict[tuple[str, ...], str] = {}
        uses: dict[str, list[tuple[str, ...]]] = {k: [] for k in KINDS}
        grouped: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        for text in texts:
            toks = Tokens.of(text)
            for site in self.sites(toks):
                name = toks.span(site.start, site.end)
                key = tuple(name.casefold().split())
                if all(map(_capitalised, name.split())):  # as the set writes it (not KANO)
                    spelled.setdefault(key, name)
                kind, group = site.data
                uses[kind].append(key)
                if group:
                    grouped.setdefault((kind, group), []).append(key)
        for key, (kind, spelling, _) in self.known.items():
            uses[kind].append(key)
            spelled.setdefault(key, spelling)
        self.pools = {k: SetWords.count([spelled[key] for key in v], fold=False) for k, v in uses.items()}
        self.group_pools = {g: SetWords.count([spelled[key] for key in v], fold=False) for g, v in grouped.items()
                            if len(set(v)) >= _MIN_GROUP}  # fmt: skip

    def sites(self, toks: Tokens) -> list[Site]:
        tokens = toks.tokens
        folded = [t.casefold() for t in tokens]
        out, i = [], 0
        while i < len(tokens):
            found = self._known_at(toks, folded, i)
            if found:
                out.append(found)
                i = found.end
                continue
            kind, group = self.cues.get(folded[i], (None, None))
            j = i + 1
            while (kind and j < len(tokens) and toks.gap_before(j) == " " and _capitalised(tokens[j])
                   and folded[j] not in self.cues and not toks.protected(j)):  # fmt: skip
                j += 1
            if i + 1 < j <= i + 1 + self.cued_words[kind]:
                out.append(Site(i + 1, j, (kind, group)))
            i = max(j, i + 1)
        return out

    def _known_at(self, toks: Tokens, folded: list[str], i: int) -> Site | None:
        """The longest gazetteer name starting at token i (words separated by single spaces)."""
        for n in range(min(self.longest, len(folded) - i), 0, -1):
            kind, *_ = self.known.get(tuple(folded[i : i + n]), (None,))
            first = toks.tokens[i]
            cased = first.lower() != first.upper()
            if kind and (first[:1].isupper() or not cased) and all(toks.gap_before(j) == " " for j in range(i + 1, i + n)):
                return Site(i, i + n, (kind, ""))
        return None

    def name_keys(self, name: str) -> frozenset[str]:
        """A name's words and, for a gazetteer name, the words of its English spelling."""
        _, _, english = self.known.get(tuple(name.casefold().split()), (None, None, ""))
        return frozenset(filter(None, map(_name_word, split_tokens(f"{name} {english}")[1::2])))

    def site_keys(self, toks: Tokens, site: Site) -> frozenset[str]:
        return self.name_keys(toks.span(site.start, site.end))

    def text_keys(self, toks: Tokens, skip: Site | None = None) -> frozenset[str]:
        tokens = toks.tokens
        kept = (t for j, t in enumerate(tokens) if skip is None or not skip.start <= j < skip.end)
        return frozenset(filter(None, map(_name_word, kept)))

    def edit(self, toks: Tokens, site: Site, rng: random.Random, own: frozenset[str],
             avoid: frozenset[str] = frozenset()) -> str | None:
        old = toks.span(site.start, site.end)
        taken = own | avoid | {w.casefold() for w in old.split()}
        kind, group = site.data
        u, fresh = rng.random(), lambda name: not taken & (set(name.casefold().split()) | self.name_keys(name))
        group_pool = self.group_pools.get((kind, group))
        new = group_pool.draw_where(u, fresh) if group_pool else None
        new = new or self.pools[kind].draw_where(u, fresh)
        return None if new is None else match_case(toks.tokens[site.start], new)
