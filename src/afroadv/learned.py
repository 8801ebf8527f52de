"""A language outside the registry, learned from the text it comes with.

An ISO 639-3 code that data/languages.yaml does not list (kab, arq, mey ...) plus a dataset make a
Language whose script, alphabet, letter counts and known words come from that dataset, so every
script-level recipe — one whose transformations need nothing curated (charnoise, diacritics) —
runs on it. Lexicons, keyboards, spelling variants, number and stop words stay curated resources
of registered languages; recipes that need them refuse a learned language in one line.

The profile is learned from every text of the dataset in the language (whatever --limit), by the
rules that build the shipped data: letters as data/letters counts them (perturb/letters.py), known
words and names as data/words does (words.py; names without case from the word alignment with the
English side, when the dataset has one). The script is the one most of the letters are written in
(`--script` or a subtag such as `kab-Latn` forces it); the alphabet is the letters of that script
beyond plain a–z seen at least as often as data/letters requires. Its hashes go into the set's
manifest, so the set is reproducible from the dataset file and the seed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from afroadv.errors import AfroadvError
from afroadv.langs import Language, find_language, registry
from afroadv.options import check_script
from afroadv.text import ISO_15924, LATIN, OTHER_SCRIPT, char_script
from afroadv.words import WordClasses, learned_word_classes

_ISO_639_3 = re.compile(r"[a-z]{3}")
_ISO_15924 = re.compile(r"[a-z]{4}")
# ISO 639-3 codes that name no language
_NOT_LANGUAGES = {"und": "an undetermined language", "mul": "multiple languages", "mis": "uncoded languages",
                  "zxx": "no linguistic content"}
USAGE = "a language outside the registry: its ISO 639-3 code (e.g. kab, or kab-Latn) with --dataset FILE"


def split_tag(tag: str) -> tuple[str, str | None]:
    """`kab-Latn` → ('kab', 'Latin'); `kab` → ('kab', None); a subtag that is no ISO 15924 script
    code (four letters) is no language afroadv knows."""
    base, sep, sub = str(tag).strip().lower().replace("_", "-").partition("-")
    if not sep:
        return base, None
    if _ISO_15924.fullmatch(sub) is None:
        raise unknown_language(tag)
    return base, check_script(sub, f"{str(tag).strip()}: script subtag")


def learnable_code(name: str) -> tuple[str, str | None]:
    """(ISO 639-3 code, script of its subtag or None) of a language outside the registry."""
    code, script = split_tag(name)
    if _ISO_639_3.fullmatch(code) is None:
        raise unknown_language(name)
    if code in _NOT_LANGUAGES:
        raise AfroadvError(f"{code!r} is the ISO 639-3 code for {_NOT_LANGUAGES[code]}, not a language; {USAGE}")
    return code, script


def canonical_code(name: str) -> str:
    """A registered language's code, or the code of one outside the registry (thresholds, recipe lists)."""
    found = find_language(name)
    return found.code if found is not None else learnable_code(name)[0]


def unknown_language(name: str) -> AfroadvError:
    """The one-line error for a language name afroadv cannot use as given."""
    code, _, sub = str(name).strip().lower().replace("_", "-").partition("-")
    if _ISO_639_3.fullmatch(code) and code not in _NOT_LANGUAGES and (not sub or _ISO_15924.fullmatch(sub)):
        return AfroadvError(f"{code} is not in the registry (see `afroadv langs`); generate and evaluate learn its script "
                            f"and letters from the text given with --dataset FILE (script-level recipes: "
                            f"{', '.join(script_level_recipes())})")
    known = ", ".join(sorted(registry()))
    return AfroadvError(f"unknown language {name!r}; known: {known} (see `afroadv langs`); {USAGE}")


def script_level_recipes() -> list[str]:
    from afroadv.perturb import list_recipes

    return [r.name for r in list_recipes() if r.script_level]


@dataclass(frozen=True)
class Profile:
    """What a dataset shows about its language: script, alphabet, letter counts, known words."""

    script: str
    script_forced: bool
    alphabet: str  # letters of the script beyond plain a–z, most used first
    letters: str  # letter counts in the form of data/letters/{code}.tsv
    letters_sha256: str
    n_letters: int  # letters (with marks) of every script in the text
    words: WordClasses

    def summary(self) -> dict:
        """What a manifest records: enough to check that a rerun learned the same profile."""
        per_script = Counter(line.split("\t")[0] for line in self.letters.splitlines()[1:])
        return {"learned_from": "dataset", "script": self.script, "script_forced": self.script_forced,
                "alphabet": self.alphabet, "letters_sha256": self.letters_sha256, "letters": dict(sorted(per_script.items())),
                "n_letters": self.n_letters, "words_version": self.words.version, "names": len(self.words.names),
                "common_words": len(self.words.common)}  # fmt: skip


def letters_by_script(texts) -> dict[str, Counter]:
    """Every letter (NFC, lower case, marks kept; not modifier letters such as tatweel, nor
    compatibility forms) of the texts, by script."""
    from afroadv.perturb.letters import char_counts

    counts: dict[str, Counter] = {}
    for c, n in char_counts(texts).items():
        if c.isalpha() and unicodedata.category(c) != "Lm" and unicodedata.normalize("NFKC", c) == c:
            low = c.lower()
            counts.setdefault(char_script(c), Counter())[low if len(low) == 1 else c] += n
    return counts


_PROFILES: dict[str, Profile] = {}  # learned profiles by their inputs (a suite learns each language once)


def learn_profile(texts: list[str], script: str | None = None, where: str = "the dataset",
                  bitext: list[tuple[str, str]] = ()) -> Profile:
    """A language's profile from its texts (and their English translations, `bitext`, when the
    dataset has them: names); `script` forces the script (checked: it must be written there)."""
    texts, bitext = list(texts), list(bitext)
    h = hashlib.sha256(repr((texts, bitext, script)).encode("utf-8")).hexdigest()
    if h not in _PROFILES:
        if len(_PROFILES) >= 16:
            _PROFILES.clear()
        _PROFILES[h] = _learn(texts, script, where, bitext)
    return _PROFILES[h]


def _learn(texts: list[str], script: str | None, where: str, bitext: list[tuple[str, str]]) -> Profile:
    from afroadv.perturb.letters import count_letters, prune, render

    seen = letters_by_script(texts)
    totals = {s: sum(c.values()) for s, c in seen.items()}
    if not totals:
        raise AfroadvError(f"{where}: no letters to learn a language's script from")
    if script is None:
        order = [*ISO_15924, OTHER_SCRIPT]
        script = max(totals, key=lambda s: (totals[s], -order.index(s)))
        forced = False
    else:
        if not totals.get(script):
            have = ", ".join(f"{s} {n}" for s, n in sorted(totals.items(), key=lambda kv: -kv[1]))
            raise AfroadvError(f"--script {script}: {where} has no {script} letters (letters by script: {have})")
        forced = True
    kept = prune({script: seen[script]}).get(script, Counter())
    alphabet = "".join(c for c, _ in sorted(kept.items(), key=lambda kv: (-kv[1], kv[0])) if not ("a" <= c <= "z"))
    table = render(prune(count_letters(texts)))
    return Profile(script, forced, alphabet, table, hashlib.sha256(table.encode("utf-8")).hexdigest(),
                   sum(totals.values()), learned_word_classes(texts, bitext))


def learned_language(code: str, texts: list[str], script: str | None = None, where: str = "the dataset",
                     sets: dict | None = None, translations: list[tuple[str, str]] = ()) -> Language:
    """The Language of an unregistered code, learned from `texts` and their English `translations`
    (its alphabet feeds Latin letter noise only, as the registry's does); `sets`: its shipped bitext."""
    p = learn_profile(texts, script, where, translations)
    return Language(code=code, name=f"{code} (learned from data)", script=p.script,
                    alphabet=p.alphabet if p.script == LATIN else "", bitext=dict(sets or {}), learned=p)


def language_for_texts(name: str, texts: list[str], script: str | None = None, where: str = "the text") -> Language:
    """A registered language, or an unregistered code learned from `texts` (the Python API's perturb)."""
    found = _registered(name, script)
    if found is not None:
        return found
    code, subtag = learnable_code(name)
    return learned_language(code, texts, _forced(script, subtag, name), where)


def language_and_dataset(name: str, dataset: str | None, split: str = "test", script: str | None = None):
    """(Language, LoadedDataset): a registered language and its set, or an unregistered code and the
    dataset its profile is learned from (every text of it in the language, whatever --limit)."""
    from afroadv.data.catalog import load_dataset, vendored_bitext

    found = _registered(name, script)
    if found is not None:
        return found, load_dataset(found, dataset, split)
    code, subtag = learnable_code(name)
    forced = _forced(script, subtag, name)
    stub = Language(code=code, name=code, script=forced or "", bitext=vendored_bitext(code))
    if dataset is None and not stub.bitext:
        raise AfroadvError(f"{code} is not in the registry: give --dataset FILE (csv/tsv/jsonl with sentence1,sentence2, "
                           "or .txt with one sentence per line); its script and letters are learned from that text")
    ds = load_dataset(stub, dataset, split)
    translations = [(p.sentence1, p.sentence2) for p in ds.pairs
                    if p.task == "bitext" or (p.task == "ordinal" and p.score == 2)]  # (level 2: its own translation)
    return learned_language(code, ds.own_texts(), forced, ds.name, stub.bitext, translations), ds


def _registered(name: str, script: str | None) -> Language | None:
    script = check_script(script)
    found = find_language(name)
    if found is not None and script is not None and script != found.script:
        raise AfroadvError(f"--script {script}: {found.code} is registered as {found.script} script "
                           "(--script is for languages outside the registry)")
    return found


def _forced(script: str | None, subtag: str | None, name: str) -> str | None:
    script = check_script(script)
    if script and subtag and script != subtag:
        raise AfroadvError(f"--script {script} contradicts the subtag of {name!r} ({subtag})")
    return script or subtag
