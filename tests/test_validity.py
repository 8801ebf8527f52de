"""Do generated sets keep their labels? The rules of issue 10, checked on the shipped data:
function words never code-switched, names and numbers protected in every script, no marks added,
typo letters at their natural rate, honest rates, known bad mappings gone."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from difflib import SequenceMatcher

import pytest

from afroadv.data.catalog import load_dataset
from afroadv.errors import AfroadvError
from afroadv.generate import generate
from afroadv.langs import get_language, registry
from afroadv.lexicons.store import lexicon_quality
from afroadv.perturb import list_recipes, load_recipe
from afroadv.text import split_tokens, words
from afroadv.words import TextContext, word_classes

from conftest import load_any

DEFAULT_LEXICONS = sorted(c for c, lang in registry().items() if load_recipe("codeswitch").supports(lang))
WITH_DATASETS = [c for c in DEFAULT_LEXICONS if get_language(c).default_dataset]


def changed_words(rec: dict) -> list[tuple[str, str]]:
    """(old, new) of every word a record changed (a new side may have more tokens: i-government)."""
    out = []
    for a, b in ((rec["orig_sentence1"], rec["sentence1"]), (rec["orig_sentence2"], rec["sentence2"])):
        ta, tb = split_tokens(a)[1::2], split_tokens(b)[1::2]
        for op, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
            if op == "replace" and i2 - i1 == 1:
                out.append((ta[i1], " ".join(tb[j1:j2])))
            elif op == "replace":
                out += list(zip(ta[i1:i2], tb[j1:j2]))
    return out


# Frequent content nouns among each language's 25 most frequent words (checked by hand): a
# frequency list is a function-word list once the few nouns of news ("people", "year") are out.
FREQUENT_NOUNS = {
    "amh": {"ጊዜ", "ሰዎች", "ቤት", "ዓመት", "ሁኔታ"}, "tir": {"ሰባት", "ግዜ", "ቤት", "ዓመት"},
    "swa": {"siku", "watu", "mwaka", "marekani"}, "zul": {"abantu", "trump"}, "xho": {"abantu"}, "ssw": {"bantfu"},
    "ibo": {"ihe", "ụlọ", "ọrụ", "ike", "aka"}, "orm": {"yeroo", "guyyaa", "bakka", "bara", "wanta"},
}


def corpus_function_words(code: str, top: int = 25) -> set[str]:
    """A function-word list made apart from the one afroadv learns: the language's most frequent
    words in the shipped NTREX-128 text (its default dataset without one), less the frequent nouns
    above, plus its stop-word list (stopwords-iso / spaCy)."""
    from afroadv.data.readers import read_lines
    from afroadv.resources import data_dir

    lang = get_language(code)
    ntrex = lang.bitext.get("ntrex")
    lines = (read_lines(data_dir() / "bitext" / "ntrex128" / f"newstest2019-ref.{ntrex}.txt") if ntrex
             else [p.sentence1 for p in load_dataset(lang).pairs])  # fmt: skip
    counts = Counter(w.casefold() for line in lines for w in words(line))
    return ({w for w, _ in counts.most_common(top)} - FREQUENT_NOUNS.get(code, set())) | lang.stopword_set()


@pytest.mark.parametrize("code", WITH_DATASETS)
def test_codeswitch_switches_almost_no_function_words(code):
    fw = corpus_function_words(code)
    gs = generate(code, "codeswitch")
    switched = [old.casefold() for r in gs.records for old, _ in changed_words(r)]
    assert switched, code
    share = sum(w in fw for w in switched) / len(switched)
    assert share <= 0.02, (code, share, Counter(w for w in switched if w in fw).most_common(5))


def test_codeswitch_default_lexicons_meet_the_precision_bar():
    """Every part of a lexicon used by default has measured precision@1 of at least 85% on every figure."""
    assert DEFAULT_LEXICONS
    for code in DEFAULT_LEXICONS:
        q = lexicon_quality()[registry()[code].lexicon]
        assert q["default_use"] and q["origins"], code
        for origin in q["origins"]:
            figures = q["precision"][origin]
            for key in ("review", "reference_adjudicated"):
                f = figures.get(key)
                if f and f["n"] >= 10:
                    assert f["precision"] >= 0.85, (code, origin, key, f)


def test_unmeasured_lexicon_is_refused_with_a_way_out():
    below = [c for c, lang in registry().items() if lang.lexicon and c not in DEFAULT_LEXICONS and c != "eng"]
    assert below
    with pytest.raises(AfroadvError, match="min_lexicon_precision: 0"):
        load_recipe("codeswitch").perturber(get_language(below[0]))
    load_any("codeswitch").perturber(get_language(below[0]))  # the documented way round


BAD = {  # what the review of v0.2.0 found, in context: (language, text, English that must not appear)
    "hau": ("Ya gaya wa ‘yan sanda haka, sannan suka tafi hutun watanni biyu.", ["told", "few", "manner", "two"]),
    "yor": ("Ó fi ojú rẹ̀ wò ó tó bá ilẹ̀ orílẹ̀-èdè wa mu.", ["last", "put", "navy", "earthquake", "languages"]),
    "kin": ("Umuryango wose wagiye mu muryango w'abibumbye.", ["brexit"]),
    "som": ("Martida iyo qoyska waxay joogaan guriga.", ["home"]),
}


@pytest.mark.parametrize("code", sorted(BAD))
def test_known_bad_mappings_do_not_recur(code):
    text, bad = BAD[code]
    p = load_any("codeswitch").perturber(get_language(code))
    for seed in range(30):
        out = p.perturb_text(text, seed, rate=1.0).text.casefold()
        assert not [b for b in bad if b in out.split() or f"{b}." in out or f"{b}," in out], (out, bad)
    assert "orílẹ̀-èdè" in p.perturb_text(BAD["yor"][0], 0, rate=1.0).text if code == "yor" else True


NAME_TEXTS = {
    # sentence-initial names known from elsewhere in the dataset, class-prefixed names, Ge'ez names
    "swa": ["Juma alikwenda sokoni na Pua.", "Mama yake Juma na rafiki yake Pua wanapenda chakula."],
    "zul": ["uZuma wathi uKavanaugh noWest bafike eThekwini kaKavanaugh.", "Ubaba ubona abantwana."],
    "amh": ["ኢትዮጵያ እና አዲስ አበባ ውስጥ መንግስት ውሃ ሰጠ።", "አብይ አህመድ ዛሬ ወደ መቀሌ ሄዱ።"],
    "hau": ["Juma ya ce gwamnati ta bada ruwa.", "Malam Juma da Musa sun je Kano."],
}
PROTECTED = {
    "swa": ["Juma", "Pua"], "zul": ["uZuma", "uKavanaugh", "noWest", "eThekwini", "kaKavanaugh"],
    "amh": ["ኢትዮጵያ", "አዲስ", "አበባ", "አብይ", "አህመድ", "መቀሌ"], "hau": ["Juma", "Musa", "Kano"],
}


@pytest.mark.parametrize("code", sorted(NAME_TEXTS))
@pytest.mark.parametrize("recipe", ["charnoise", "codeswitch", "lexsub", "keyboard"])
def test_names_survive_at_rate_one(code, recipe):
    rec = load_any(recipe)
    lang = get_language(code)
    if not rec.supports(lang):
        pytest.skip(f"{recipe} does not apply to {code}")
    context = TextContext.learn(NAME_TEXTS[code])
    p = rec.perturber(lang, rate=1.0, context=context)
    for i, text in enumerate(NAME_TEXTS[code]):
        for seed in range(20):
            out = p.perturb_text(text, seed * 7 + i, seed % 2, rate=1.0)
            for name in PROTECTED[code]:
                if name in text:
                    assert name in out.text, (recipe, name, out.text)


@pytest.mark.parametrize("code", ["hau", "swa", "amh", "yor", "kin", "afr", "zul"])
def test_number_words_are_protected(code):
    numbers = sorted(word_classes(code).number)
    assert numbers, code
    p = load_recipe("charnoise").perturber(get_language(code), rate=1.0)
    text = " ".join(numbers[:40])
    assert p.analyse(text).n_eligible == 0


@pytest.mark.parametrize("code", [c for c in sorted(registry()) if load_recipe("lexsub").supports(get_language(c))])
def test_lexsub_adds_no_mark_the_text_did_not_carry(code):
    gs = generate(code, "lexsub")
    marks = lambda s: Counter(c for c in unicodedata.normalize("NFD", s) if unicodedata.combining(c))  # noqa: E731
    hooks = set("ɓɗƙƴƁƊƘƳ")
    for r in gs.records:
        for old, new in changed_words(r):
            assert not (marks(new) - marks(old)), (old, new)
            assert not (set(new) & hooks) - set(old), (old, new)


def test_charnoise_typo_letters_come_at_their_natural_rate():
    hau = generate("hau", "charnoise").records
    hooks = set("ɓɗƙƴƁƊƘƳ")
    with_new_hook = sum(any(set(new) & hooks - set(old) for old, new in changed_words(r)) for r in hau)
    assert with_new_hook / len(hau) <= 0.05
    afr = generate("afr", "charnoise").records
    accented = set("êëéèôöîïûüÊËÉÈÔÖÎÏÛÜ")
    with_new_accent = sum(any(set(new) & accented - set(old) for old, new in changed_words(r)) for r in afr)
    assert with_new_accent / len(afr) <= 0.05


def test_geez_noise_stays_among_written_syllables():
    from afroadv.perturb.letters import letter_counts

    written = set(letter_counts("amh")[0]["Ethiopic"].letters)
    for r in generate("amh", "charnoise").records:
        for old, new in changed_words(r):
            assert set(new) - set(old) <= written | set(old), (old, new)


@pytest.mark.parametrize("code", ["amh", "hau"])
def test_mixed_script_words_take_typo_letters_from_each_letters_own_script(code):
    """wሰላም never becomes wmላም: a substituted letter stays in the word's script, and an inserted
    letter comes from the script of the letter typed just before it."""
    from afroadv.text import char_script

    p = load_recipe("charnoise").perturber(get_language(code), rate=1.0)
    for text in ("wሰላም ሰላምx", "ሰላምabc abcሰላም", "kaሰላም"):
        for seed in range(200):
            for _, old, new in p.perturb_text(text, seed).changes:
                scripts = lambda w: [char_script(c) for c in w if c.isalpha()]  # noqa: E731
                # every new letter is of a script already in the word, next to a letter of its own script
                assert set(scripts(new)) <= set(scripts(old)), (old, new)
                if len(new) == len(old):  # a substitution or a swap: each position keeps its script,
                    assert sorted(scripts(new)) == sorted(scripts(old)), (old, new)  # or two swapped


def default_sets():
    for recipe in list_recipes():
        for code, lang in sorted(registry().items()):
            if lang.default_dataset and recipe.supports(lang) and recipe.rate < 1.0:
                yield recipe.name, code


@pytest.mark.parametrize("recipe,code", list(default_sets()))
def test_realised_rate_is_within_a_quarter_of_the_nominal_rate(recipe, code):
    stats = generate(code, recipe).manifest["stats"]
    assert stats["nominal_rate"] == load_recipe(recipe).rate
    if stats["n_eligible_words"] < 40:
        pytest.skip(f"{stats['n_eligible_words']} rewritable words: too few for a rate")
    assert abs(stats["realised_rate"] - stats["nominal_rate"]) <= 0.25 * stats["nominal_rate"], stats


def test_every_manifest_reports_its_rates(tmp_path):
    from afroadv.generate import write_set

    gs = generate("hau", "charnoise", limit=30)
    write_set(tmp_path / "s.jsonl", gs)
    stats = json.loads((tmp_path / "s.manifest.json").read_text(encoding="utf-8"))["stats"]
    assert {"nominal_rate", "realised_rate", "n_eligible_words", "n_changed_words"} <= set(stats)


def test_diacritics_strips_marks_only():
    from afroadv.perturb.base import build_transformation

    t = build_transformation("strip_diacritics", get_language("ary"), load_recipe("diacritics").steps[0].params)
    assert [t.apply(w) for w in ("أنا", "مسؤول", "قائد", "كَتَبَ")] == ["أنا", "مسؤول", "قائد", "كتب"]
    y = build_transformation("strip_diacritics", get_language("yor"), load_recipe("diacritics").steps[0].params)
    assert [y.apply(w) for w in ("òșèlú", "ϙmϙ", "ẹ̀gbọ́n", "Şe")] == ["oselu", "omo", "egbon", "Se"]
    h = build_transformation("hamza_seats", get_language("ary"), {})
    assert h.apply("مسؤول") == "مسوول" and h.apply("أنا") == "انا"


def test_diacritics_rate_strips_only_some_words():
    p = load_recipe("diacritics").perturber(get_language("yor"), rate=0.5)
    text = "Ọmọ náà lọ sí ọjà, ẹ̀gbọ́n rẹ̀ ò wá ilé ìwé rárá"
    r = p.perturb_text(text, 3)
    assert 0 < r.n_changed < r.n_eligible
