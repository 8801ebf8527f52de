"""The language registry (data/languages.yaml): codes, aliases, script and per-language resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from afroadv.errors import AfroadvError
from afroadv.resources import data_dir

if TYPE_CHECKING:
    from afroadv.learned import Profile


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    script: str
    iso1: str | None = None
    aliases: tuple[str, ...] = ()
    alphabet: str = ""
    keyboard: str | None = None
    stopwords: str | None = None
    lexicon: str | None = None
    variants: tuple[str, ...] = ()
    sts: str | None = None
    bitext: dict = field(default_factory=dict)
    codeswitch: dict = field(default_factory=dict)  # how English nouns enter the language (codeswitch.py)
    spelling: dict = field(default_factory=dict)  # how writers vary a word's spelling (spelling.py)
    learned: Profile | None = None  # outside the registry: script, letters and words learned from its dataset (learned.py)

    def __hash__(self) -> int:  # (dict fields: hash by code, the registry's identity)
        return hash(self.code)

    @property
    def default_dataset(self) -> str | None:
        if self.sts:
            return "semrel"
        return next(iter(self.bitext), None)

    @property
    def datasets(self) -> list[str]:
        return (["semrel"] if self.sts else []) + list(self.bitext)

    def stopword_set(self) -> frozenset[str]:
        return load_stopwords(self.stopwords) if self.stopwords else frozenset()


@lru_cache(maxsize=None)
def registry() -> dict[str, Language]:
    raw = yaml.safe_load((data_dir() / "languages.yaml").read_text(encoding="utf-8"))
    langs = {}
    for entry in raw["languages"]:
        entry = dict(entry)
        entry["aliases"] = tuple(entry.get("aliases") or ())
        entry["variants"] = tuple(entry.get("variants") or ())
        entry["bitext"] = dict(entry.get("bitext") or {})
        entry["codeswitch"] = dict(entry.get("codeswitch") or {})
        entry["spelling"] = dict(entry.get("spelling") or {})
        entry["alphabet"] = entry.get("alphabet") or ""
        langs[entry["code"]] = Language(**entry)
    return langs


@lru_cache(maxsize=None)
def _alias_index() -> dict[str, str]:
    index = {}
    for lang in registry().values():
        for name in (lang.code, lang.iso1, *lang.aliases):
            if name:
                index[name.lower()] = lang.code
    return index


def find_language(name: str) -> Language | None:
    """The registered language `name` names (code, ISO 639-1 code or alias; a script subtag such as
    `sna-Latn` must match its registered script), or None."""
    from afroadv.learned import split_tag

    key = str(name).strip().lower().replace("_", "-")
    code = _alias_index().get(key)
    if code is None and "-" in key:
        base, script = split_tag(name)
        code = _alias_index().get(base)
        if code is not None and script is not None and registry()[code].script != script:
            raise AfroadvError(f"{name}: {code} is written in {registry()[code].script} script in the registry, not {script}")
    return registry()[code] if code is not None else None


def get_language(name: str) -> Language:
    """A registered language; an unregistered ISO 639-3 code is learned from a dataset instead
    (learned.py), and this says how."""
    found = find_language(name)
    if found is None:
        from afroadv.learned import unknown_language

        raise unknown_language(name)
    return found


@lru_cache(maxsize=None)
def load_stopwords(name: str) -> frozenset[str]:
    path: Path = data_dir() / "stopwords" / f"{name}.txt"
    if not path.exists():
        return frozenset()
    return frozenset(w.strip().casefold() for w in path.read_text(encoding="utf-8").splitlines() if w.strip())
