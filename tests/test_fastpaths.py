"""The fast paths of generation against their plain definitions: the chunked text analyser against
a token-by-token walk, the fused character kernel against the four operations it fuses, the
numpy random streams against the pure-Python reference, and "simple" words against \\X."""

import random

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afroadv.langs import get_language
from afroadv.perturb import list_recipes, load_recipe
from afroadv.perturb.analysis import ALWAYS, INITIAL, PROTECTED
from afroadv.perturb.chars import _SIMPLE, is_simple
from afroadv.perturb.rng import Stream, batch_streams, draws, stream_key, stream_keys
from afroadv.text import ends_sentence, nfc, split_tokens

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
    """Eligibility the plain way: every token in order, carrying 'a sentence starts here'."""
    parts = split_tokens(text)
    out, n, initial = [], 0, True
    at = 0
    for i, part in enumerate(parts):
        if i % 2 == 0:
            initial = initial or ends_sentence(part)
        else:
            kind = perturber._judge(part)
            if kind == ALWAYS or (kind == INITIAL and initial):
                out.append((at, at + len(part), n))
            n += kind != PROTECTED
            initial = False
        at += len(part)
    return out, n


def fast_targets(perturber, text):
    return perturber.spans(text), perturber.analyse(text).n_words


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("recipe,code", [("charnoise", "hau"), ("charnoise", "amh"), ("keyboard", "yor"),
                                         ("diacritics", "yor"), ("codeswitch", "ary")])  # fmt: skip
def test_analyser_matches_a_token_walk(recipe, code, text):
    p = load_recipe(recipe).perturber(get_language(code))
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


@pytest.mark.parametrize("code", ["hau", "amh", "yor", "ary", "ibo", "afr"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32), rate=st.sampled_from([0.15, 0.5, 1.0]))
def test_fused_kernel_draws_and_writes_exactly_what_the_operations_do(code, data, seed, rate):
    text = data.draw(st.one_of(texts(code), st.sampled_from(SAMPLES)))
    fused = load_recipe("charnoise").perturber(get_language(code), rate=rate)
    plain = load_recipe("charnoise").perturber(get_language(code), rate=rate)
    assert fused._kernel is not None
    plain._kernel = None
    a, b = random.Random(seed), random.Random(seed)
    assert fused.perturb_text(text, a) == plain.perturb_text(text, b)
    assert a.random() == b.random()  # the same number of draws


def test_only_char_recipes_get_the_kernel():
    assert load_recipe("keyboard").perturber(get_language("hau"))._kernel is None
    assert load_recipe("charnoise").perturber(get_language("hau"))._kernel is not None


def test_streams_numpy_and_python_agree_and_extend():
    keys = stream_keys((7, "charnoise", "hau"), ["p1", "p2", "päir-3"])
    assert keys == [stream_key(7, "charnoise", "hau", n) for n in ("p1", "p2", "päir-3")]
    batch = batch_streams(keys, 4)
    for key, s in zip(keys, batch):
        got = [s.random() for _ in range(50)]  # past the 4 precomputed draws
        fresh = Stream(key)  # no precomputed draws at all
        assert got == draws(key, 0, 50) == [fresh.random() for _ in range(50)]
        assert all(0.0 <= u < 1.0 for u in got)
    # a stream does not depend on the batch it was built in
    alone = batch_streams(keys[1:2], 32)[0]
    assert [alone.random() for _ in range(10)] == draws(keys[1], 0, 10)


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

    rec = load_recipe(recipe)
    lang = get_language("hau" if rec.supports(get_language("hau")) else "amh")
    pairs = load_dataset(lang).pairs[:40]
    whole = perturb_pairs(rec.perturber(lang), pairs, 3)
    parts = perturb_pairs(rec.perturber(lang), pairs[20:], 3) + perturb_pairs(rec.perturber(lang), pairs[:20], 3)
    assert whole == parts[20:] + parts[:20]
