"""The fast paths of generation against their plain definitions: the chunked text analyser against
a token-by-token walk, the numpy random draws against the pure-Python reference, and "simple"
words against \\X (the batch kernel is held to the plain rules in test_vector.py)."""

import numpy as np
import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afroadv.langs import get_language
from afroadv.perturb import list_recipes, load_recipe
from afroadv.perturb.analysis import ALWAYS, CONTEXT, INITIAL, PROTECTED, bound
from afroadv.perturb.chars import _SIMPLE, is_simple
from afroadv.perturb.recipe import n_to_change
from afroadv.perturb.rng import Draws, draw, draws, draws_array, stream_key, stream_keys
from afroadv.text import ends_sentence, nfc, split_tokens

from conftest import load_any
from test_properties import texts

SAMPLES = [
    "Elumelu ya yi wannan jan hankalin ne a ranar Laraba. Lokacin da aka rufe zaman, NNPC ya ce",
    '  Kano:"Sabon" gwamna  — ya zo.Ya tafi! @user #Kano https://x.org/a 2024 e-mail a@b.co',
    "ኢትዮጵያ አዲስ አበባ። ሰላም ነው፣ ጤና ይስጥልኝ",
    "Ọmọ náà lọ sí ọjà. Ẹ̀gbọ́n rẹ̀ ò wá; Àdìó sì ń sùn",
    "المغرب زوين بزاف. واش نتا مزيان؟",
    "",
    " ",
    "...",
]


def reference_targets(perturber, text):
    """Eligibility the plain way: every token judged in order (with its neighbours for a joined or
    multi-word name), carrying 'a sentence starts here'."""
    parts = split_tokens(text)
    tokens, gaps = parts[1::2], parts[0::2]
    kinds = [perturber._judge(t, bound(gaps[j], gaps[j + 1], t)) for j, t in enumerate(tokens)]
    if perturber.analyser.in_context and CONTEXT in kinds:
        kinds = perturber.analyser.in_context(tokens, gaps, kinds)
    out, n, initial = [], 0, True
    at = 0
    for j, tok in enumerate(tokens):
        at += len(gaps[j])
        initial = initial or ends_sentence(gaps[j])
        kind = kinds[j]
        if kind == ALWAYS or (kind == INITIAL and initial):
            out.append((at, at + len(tok), n))
        n += kind != PROTECTED
        initial = False
        at += len(tok)
    return out, n


def fast_targets(perturber, text):
    return perturber.spans(text), perturber.analyse(text).n_words


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("recipe,code", [("charnoise", "hau"), ("charnoise", "amh"), ("keyboard", "yor"),
                                         ("diacritics", "yor"), ("codeswitch", "ary")])  # fmt: skip
def test_analyser_matches_a_token_walk(recipe, code, text):
    p = load_any(recipe).perturber(get_language(code))
    assert fast_targets(p, text) == reference_targets(p, text)


@pytest.mark.parametrize("code", ["hau", "amh", "yor", "ary"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_analyser_matches_a_token_walk_on_any_text(code, data):
    text = nfc(data.draw(texts(code)))
    for recipe in ("charnoise", "keyboard"):
        rec = load_recipe(recipe)
        if rec.supports(get_language(code)):
            p = rec.perturber(get_language(code))
            assert fast_targets(p, text) == reference_targets(p, text)


def test_draws_numpy_and_python_agree():
    keys = stream_keys((7, "charnoise", "hau"), ["p1", "p2", "päir-3"])
    assert keys == [stream_key(7, "charnoise", "hau", n) for n in ("p1", "p2", "päir-3")]
    slots = np.array([0, 1, 5, (1 << 40) + 3, (2 << 40) + (1 << 24) + 17])
    for key in keys:
        got = draws_array(np.full(len(slots), key, dtype=np.uint64), slots).tolist()
        assert got == [draw(key, int(j)) for j in slots]
        d = Draws(key, int(slots[3]))
        assert [d.random(), d.random()] == draws(key, int(slots[3]), int(slots[3]) + 2)
        assert all(0.0 <= u < 1.0 for u in got)


@pytest.mark.parametrize("rate,min_words", [(0.15, 1), (0.3, 1), (0.5, 2), (1.0, 1), (0.2, 0)])
def test_n_to_change_is_the_rate_in_expectation_with_the_floor(rate, min_words):
    """E[k] = rate × m exactly; a touched text gets at least min(m, min_words) words."""
    for m in range(0, 12):
        us = [(i + 0.5) / 4000 for i in range(4000)]
        ks = [n_to_change(rate, m, min_words, u) for u in us]
        assert abs(sum(ks) / len(ks) - rate * m) < 1e-3
        assert all(k == 0 or k >= min(m, min_words) for k in ks) and all(k <= m for k in ks)


def test_stream_draws_look_uniform():
    u = draws(stream_key("uniformity"), 0, 20000)
    assert abs(sum(u) / len(u) - 0.5) < 0.01
    buckets = [0] * 10
    for x in u:
        buckets[int(x * 10)] += 1
    assert max(buckets) - min(buckets) < 400


def test_simple_words_are_their_own_grapheme_clusters():
    """Every letter of the 'simple' blocks stays its own \\X cluster beside itself and beside 'a'."""
    cluster = regex.compile(r"\X")
    letters = [chr(c) for c in range(0x41, 0xAB30) if chr(c).isalpha() and _SIMPLE.fullmatch(chr(c))]
    assert len(letters) > 1500
    for c in letters:
        for w in (c + c, "a" + c, c + "a", c + "ሀ"):
            assert cluster.findall(w) == list(w), (hex(ord(c)), w)
    assert is_simple("Kano") and is_simple("ኢትዮጵያ") and is_simple("المغرب")
    assert not is_simple("ẹ̀gbọ́n") and not is_simple("l'eau") and not is_simple("한국")


@pytest.mark.parametrize("recipe", [r.name for r in list_recipes()])
def test_generation_is_independent_of_batching(recipe):
    from afroadv.data.catalog import load_dataset
    from afroadv.generate import perturb_pairs

    rec = load_any(recipe)
    from afroadv.generate import dataset_perturber

    code = next((c for c in ("hau", "amh") if rec.supports(get_language(c))), "ary")
    lang = get_language(code)
    if code == "ary":  # arabizi: Arabic script only, and Darija ships no dataset
        from afroadv.data.readers import read_pairs_file
        from conftest import ROOT

        ds = None
        pairs = read_pairs_file(ROOT / "tests" / "data" / "darija_arabic_script.jsonl", code)
    else:
        ds = load_dataset(lang)
        pairs = ds.pairs[:40]

    def perturber():
        return rec.perturber(lang) if ds is None else dataset_perturber(rec, lang, ds)

    whole = perturb_pairs(perturber(), pairs, 3)
    parts = perturb_pairs(perturber(), pairs[20:], 3) + perturb_pairs(perturber(), pairs[:20], 3)
    assert whole == parts[20:] + parts[:20]


@pytest.mark.parametrize("code", ["hau", "amh", "yor", "kin", "afr", "swa"])
def test_dataset_context_numpy_equals_the_plain_rule_on_real_text(code):
    from afroadv.data.catalog import load_dataset
    from afroadv.words import TextContext

    pairs = load_dataset(get_language(code)).pairs
    texts = [t for p in pairs for t in (p.sentence1, p.sentence2)]
    fast, plain = TextContext.learn(texts), TextContext.learn_plainly(texts)
    assert fast == plain
    assert (fast.names and fast.common) or code == "amh"  # (Ge'ez has no case)


@pytest.mark.parametrize("code", ["hau", "amh", "yor", "ary"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_dataset_context_numpy_equals_the_plain_rule_on_any_text(code, data):
    from afroadv.words import TextContext

    batch = data.draw(st.lists(texts(code), min_size=1, max_size=5))
    assert TextContext.learn(batch) == TextContext.learn_plainly(batch)
