"""Directional (should-change) recipes: each changes what it should and only that, deterministically;
`expect: decrease` is parsed, validated and recorded; the pass rate is computed exactly."""

from __future__ import annotations

import pytest

from afroadv.errors import AfroadvError
from afroadv.generate import generate
from afroadv.langs import get_language
from afroadv.perturb.recipe import load_recipe, parse_recipe, recipes_for
from afroadv.text import split_tokens

RECIPE = {"name": "x", "description": "d", "transformations": [{"kind": "char_swap"}]}


def _words(text: str) -> list[str]:
    return split_tokens(text)[1::2]


@pytest.fixture(scope="module")
def hau_wordswap():
    return generate("hau", "wordswap", limit=60)


def test_wordswap_words_come_from_other_records_never_the_records_own(hau_wordswap):
    from afroadv.data.catalog import load_dataset

    ds = load_dataset(get_language("hau"))
    counts: dict[str, set[str]] = {}
    for p in ds.pairs:
        for t in (p.sentence1, p.sentence2):
            for w in _words(t):
                counts.setdefault(w.casefold(), set()).add(p.id)
    swapped = 0
    for r in (r for r in hau_wordswap.records if r["changed"]):
        own = {w.casefold() for t in (r["orig_sentence1"], r["orig_sentence2"]) for w in _words(t)}
        for side in ("sentence1", "sentence2"):
            old, new = _words(r["orig_" + side]), _words(r[side])
            assert len(old) == len(new)  # word for word
            for a, b in zip(old, new):
                if a != b:
                    swapped += 1
                    assert b.casefold() not in own
                    assert counts[b.casefold()] - {r["source_id"]}, b  # another record uses it
                    assert not any(c.isdigit() for c in a) and not a[1:2].isupper()
    assert swapped > 30


def test_wordswap_changes_one_side_per_pair_and_both_sides_occur(hau_wordswap):
    changed = [r for r in hau_wordswap.records if r["changed"]]
    sides = [(r["sentence1"] != r["orig_sentence1"], r["sentence2"] != r["orig_sentence2"]) for r in changed]
    assert all(a != b for a, b in sides)
    assert {a for a, _ in sides} == {True, False}
    assert hau_wordswap.manifest["recipe"]["expect"] == "decrease"
    assert 0.22 <= hau_wordswap.manifest["stats"]["realised_rate"] <= 0.38  # nominal 0.3


def test_wordswap_is_deterministic_and_independent_of_limit(hau_wordswap):
    again = generate("hau", "wordswap", limit=20)
    assert again.records == hau_wordswap.records[:20]
    other = generate("hau", "wordswap", limit=20, seed=1)
    assert other.records != again.records


def test_wordswap_needs_a_set():
    with pytest.raises(AfroadvError, match="draws words from the rest of a set"):
        load_recipe("wordswap").perturber(get_language("hau"))


def test_expect_is_parsed_validated_and_defaults_to_same():
    assert parse_recipe(dict(RECIPE), "x.yaml").expect == "same"
    assert parse_recipe({**RECIPE, "expect": "decrease"}, "x.yaml").expect == "decrease"
    for bad in ("increase", "", None, 1, ["decrease"]):
        with pytest.raises(AfroadvError, match=r"x.yaml: `expect` must be one of same, decrease"):
            parse_recipe({**RECIPE, "expect": bad}, "x.yaml")
    for name in ("wordswap",):
        assert load_recipe(name).expect == "decrease"


def test_all_means_the_invariance_recipes_only():
    names = {r.name for r in recipes_for(get_language("hau"))}
    assert "charnoise" in names and "wordswap" not in names
