"""Property tests over arbitrary Unicode for every shipped recipe: no crash, NFC out, only the chosen
words change, and the requested rate holds (up to rounding and the recipe's min_words)."""

import math
import random
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afroadv.langs import get_language
from afroadv.lexicons.store import load_lexicon
from afroadv.perturb import list_recipes
from afroadv.text import ARABIC, ETHIOPIC, LATIN, WORD, char_script, nfc, segment, split_tokens

GEEZ = st.characters(min_codepoint=0x1200, max_codepoint=0x137F)
ARABIC_CH = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
LATIN_CH = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZɓɗƙƴẹọṣàáèéìíòóùú"))
MARKS = st.characters(min_codepoint=0x0300, max_codepoint=0x036F)
EMOJI = st.sampled_from(list("😭🤣👑🤲🇳🇬✊🏾"))
RTL_AND_SPACE = st.sampled_from(["\u200f", "\u200e", "\u200d", " ", "  ", "\n", "\t", "\u00a0"])
PUNCT = st.sampled_from(list(".,;:!?'\"()-–«»።፣፤؟،") + ["@user", "#Kano", "https://x.org/a", "2024", "3.5"])

PAIRS = [(r.name, code) for r in list_recipes() for code in r.supported_languages()
         if code in {"amh", "hau", "yor", "kin", "ary", "swa", "afr", "tir", "ibo", "eng"}]  # fmt: skip


# the rest of a set, for recipes that draw words from it (wordswap): ordinary words of several scripts
SET_TEXTS = ["ruwa yana da tsada sosai", "ሰላም ለሁሉም ይሁን", "الما غالي بزاف", "maji ni uhai wa watu"]


def lexicon_words(code):
    words = sorted(load_lexicon(get_language(code).lexicon).to_english)
    return st.sampled_from(words) if words else st.just("ruwa")


def texts(code):
    word = st.one_of(
        st.text(GEEZ, min_size=1, max_size=8),
        st.text(ARABIC_CH, min_size=1, max_size=8),
        st.text(st.one_of(LATIN_CH, MARKS), min_size=1, max_size=8),
        lexicon_words(code),
        lexicon_words(code).map(str.capitalize),
        EMOJI,
        st.text(max_size=4),  # anything at all, controls and surrogates excluded by hypothesis
        st.text(st.one_of(LATIN_CH, GEEZ, ARABIC_CH), min_size=2, max_size=8),  # mixed-script words (wሰላም)
    )
    sep = st.one_of(RTL_AND_SPACE, PUNCT)
    return st.lists(st.tuples(word, sep), max_size=25).map(lambda xs: "".join(a + b for a, b in xs))


@pytest.mark.parametrize("recipe,code", PAIRS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rate=st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0]), seed=st.integers(0, 2**32))
def test_recipe_properties(recipe, code, data, rate, seed):
    recipe_obj = next(r for r in list_recipes() if r.name == recipe)
    perturber = recipe_obj.perturber(get_language(code), rate=rate, set_texts=SET_TEXTS)
    text = data.draw(texts(code))
    res = perturber.perturb_text(text, seed)

    # NFC out, and only the reported words changed: rebuilding from the input's segments proves it
    assert unicodedata.is_normalized("NFC", res.text)
    segs = segment(nfc(text))
    word_positions = [i for i, s in enumerate(segs) if s.kind == WORD]
    rebuilt = [s.text for s in segs]
    for word_index, old, new in res.changes:
        pos = word_positions[word_index]
        assert rebuilt[pos] == old and new != old
        rebuilt[pos] = new
    rebuilt = "".join(rebuilt)
    if res.changes and perturber.rewrites_gaps:  # translit: Ethiopic punctuation to Latin, between words only
        rebuilt = perturber.rewrite_gaps(rebuilt)
    worded = nfc(rebuilt)
    rebuilt = perturber.restyle_gaps(worded, seed)  # orthography: punctuation restyled in a share of texts
    assert nfc(rebuilt) == res.text
    assert split_tokens(res.text)[1::2] == split_tokens(worded)[1::2]  # restyling never touches a word or protected span

    # rate: stochastic rounding of rate × eligible; below the floor, the floor or nothing (a typo that
    # would spell a real word may be dropped: fewer, never more)
    n = res.n_eligible
    floor = min(n, recipe_obj.min_words)
    low = 0 if recipe_obj.avoid_real_words else None
    if rate > 0 and n and rate * n < floor:
        assert res.n_changed in (0, floor) or (low == 0 and res.n_changed < floor)
    else:
        assert (math.floor(rate * n) if low is None else 0) <= res.n_changed <= math.ceil(rate * n)

    # character noise stays in the word's script: no Latin letter in a Ge'ez or Arabic word
    if recipe in ("charnoise", "keyboard"):
        for _, old, new in res.changes:
            scripts = {char_script(c) for c in old if c.isalpha()}
            if scripts in ({ETHIOPIC}, {ARABIC}):
                assert not any(char_script(c) == LATIN for c in new)


@pytest.mark.parametrize("recipe", [r.name for r in list_recipes()])
def test_empty_and_blank_text(recipe):
    r = next(x for x in list_recipes() if x.name == recipe)
    p = r.perturber(get_language(r.supported_languages()[0]), set_texts=SET_TEXTS)
    for text in ("", " ", "\n", "😭😭", "12 34"):
        res = p.perturb_text(text, 0)
        assert res.text == nfc(text) and res.n_changed == 0


@pytest.mark.parametrize("code", ["amh", "tir"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_phonetic_geez_keyboard_changes_only_geez(code, data, seed):
    """A phonetic Ge'ez layout's slips replace or add syllables only: every other character survives, in order."""
    p = next(r for r in list_recipes() if r.name == "keyboard").perturber(get_language(code), rate=1.0)
    res = p.perturb_text(data.draw(texts(code)), seed)
    for _, old, new in res.changes:
        assert [c for c in old if char_script(c) != ETHIOPIC] == [c for c in new if char_script(c) != ETHIOPIC]
