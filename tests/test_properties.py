"""Property tests over arbitrary Unicode for every shipped recipe: no crash, NFC out, only the chosen
words change, and the requested rate holds (up to rounding and the recipe's min_words)."""

import math
import random
from collections import Counter
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afroadv.langs import get_language
from afroadv.lexicons.store import load_lexicon
from afroadv.perturb import list_recipes, load_recipe
from afroadv.perturb.sentence import Tokens
from afroadv.text import ARABIC, ETHIOPIC, LATIN, WORD, char_script, nfc, segment, split_tokens

SENTENCE_KINDS = {"numswap", "entityswap", "negation"}  # sentence edits: one site per sentence, checked apart
GEEZ = st.characters(min_codepoint=0x1200, max_codepoint=0x137F)
ARABIC_CH = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
LATIN_CH = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZɓɗƙƴẹọṣàáèéìíòóùú"))
MARKS = st.characters(min_codepoint=0x0300, max_codepoint=0x036F)
EMOJI = st.sampled_from(list("😭🤣👑🤲🇳🇬✊🏾"))
RTL_AND_SPACE = st.sampled_from(["\u200f", "\u200e", "\u200d", " ", "  ", "\n", "\t", "\u00a0"])
PUNCT = st.sampled_from(list(".,;:!?'\"()-–«»።፣፤؟،") + ["@user", "#Kano", "https://x.org/a", "2024", "3.5"])

PAIRS = [(r.name, code) for r in list_recipes() for code in r.supported_languages()
         if code in {"amh", "hau", "yor", "kin", "ary", "swa", "afr", "tir", "ibo", "eng"}]  # fmt: skip
WORD_PAIRS = [(r, c) for r, c in PAIRS if not load_recipe(r).steps[0].kind in SENTENCE_KINDS]
SENTENCE_PAIRS = [(r, c) for r, c in PAIRS if load_recipe(r).steps[0].kind in SENTENCE_KINDS]
# words the directional recipes act on, so random text meets them: triggers, numbers, names and cues
DIRECTIONAL_WORDS = st.sampled_from(["ya", "sun", "yana", "da", "za", "su", "ba", "is", "het", "dit", "nie", "kom",
                                     "alisoma", "wanasema", "anakula", "Kano", "Abuja", "jihar", "Shugaba", "Musa",
                                     "Nairobi", "12", "1,500", "2019", "3.5", "COVID-19", "አዲስ አበባ"])


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
        DIRECTIONAL_WORDS,
    )
    sep = st.one_of(RTL_AND_SPACE, PUNCT)
    return st.lists(st.tuples(word, sep), max_size=25).map(lambda xs: "".join(a + b for a, b in xs))


@pytest.mark.parametrize("recipe,code", WORD_PAIRS)
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


@pytest.mark.parametrize("recipe,code", SENTENCE_PAIRS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rate=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 2**32))
def test_sentence_edit_properties(recipe, code, data, rate, seed):
    """numswap, entityswap and negation change what they are for — a number, a name, a clause's
    polarity — at one site, and nothing else: no crash, NFC, the text outside the site unchanged,
    URLs / @users / #hashtags untouched; numswap leaves every word, entityswap every number,
    negation every number and every word but the one it negates (it only adds negators)."""
    perturber = load_recipe(recipe).perturber(get_language(code), rate=rate, set_texts=SET_TEXTS)
    text = data.draw(texts(code))
    res = perturber.perturb_text(text, seed)
    assert unicodedata.is_normalized("NFC", res.text)
    assert res.n_eligible in (0, 1) and res.n_changed <= res.n_eligible and len(res.changes) == res.n_changed
    before = Tokens.of(nfc(text))
    if not res.changes:
        assert res.text == nfc(text)
        return
    (start, old, new), = res.changes
    prefix = "".join(before.parts[: 2 * start + 1])
    assert nfc(text).startswith(prefix + old) and new != old
    assert res.text == nfc(prefix + new + nfc(text)[len(prefix) + len(old):])
    after = Tokens.of(res.text)
    kept = lambda toks, keep: sorted(t for t in toks.tokens if keep(t))  # noqa: E731
    protected = lambda t: t[:1] in "@#" or "://" in t or t.startswith("www.")  # noqa: E731
    assert kept(before, protected) == kept(after, protected)
    digits = lambda t: any(c.isdigit() for c in t)  # noqa: E731
    if recipe == "numswap":
        assert kept(before, lambda t: not digits(t)) == kept(after, lambda t: not digits(t))
        assert all(c.isdigit() or c in ",." for c in old + new)
    else:
        assert kept(before, digits) == kept(after, digits)
    if recipe == "negation":
        gone = Counter(w.casefold() for w in before.tokens) - Counter(w.casefold() for w in after.tokens)
        assert sum(gone.values()) <= 1  # only the negated pronoun / verb itself may be replaced


@pytest.mark.parametrize("recipe", [r.name for r in list_recipes()])
def test_empty_and_blank_text(recipe):
    r = next(x for x in list_recipes() if x.name == recipe)
    p = r.perturber(get_language(r.supported_languages()[0]), set_texts=SET_TEXTS)
    numbers = ("12 34",) if recipe != "numswap" else ()  # (numswap is there to change them)
    for text in ("", " ", "\n", "😭😭", *numbers):
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


PAIR_AWARE = [(r, c) for r, c in SENTENCE_PAIRS if r in ("numswap", "entityswap")]


@pytest.mark.parametrize("recipe,code", PAIR_AWARE)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_sentence_edit_in_a_pair_changes_only_what_the_other_side_shares(recipe, code, data, seed):
    """In a pair, numswap and entityswap edit a site whose content (a number's value, a name) the
    other side holds and this side holds only there; afterwards this side holds it no more, and what
    it brings in the pair did not hold. A text sharing nothing with the other side stays as it was."""
    perturber = load_recipe(recipe).perturber(get_language(code), set_texts=SET_TEXTS)
    text = data.draw(texts(code))
    other = data.draw(texts(code)) + " " + text[data.draw(st.integers(0, len(text))):]  # often sharing a part of text
    res = perturber.perturb_text(text, seed, other=other)
    assert unicodedata.is_normalized("NFC", res.text)
    (edit,) = perturber.sentence_edits
    before, theirs = Tokens.of(nfc(text)), Tokens.of(nfc(other))
    if not res.changes:
        assert res.text == nfc(text)
        return
    ((start, old, new),) = res.changes
    site = next(s for s in edit.sites(before) if s.start == start)
    keys = edit.site_keys(before, site)
    assert keys & edit.text_keys(theirs) and not keys & edit.text_keys(before, site)
    assert not keys & edit.text_keys(Tokens.of(res.text))  # gone from this side
    if recipe == "numswap":  # (a name's pool may hold a name that shares a capitalised word with nothing here)
        assert not edit.text_keys(Tokens.of(res.text)) - edit.text_keys(before) & edit.text_keys(theirs)
