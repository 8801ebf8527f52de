import random
from collections import Counter

import pytest

from afroadv.errors import AfroadvError
from afroadv.langs import get_language
from afroadv.perturb import list_recipes, load_recipe
from afroadv.perturb.base import build_transformation
from afroadv.perturb.keyboard import load_layout
from afroadv.perturb.recipe import parse_recipe
from afroadv.perturb.scripts import ethiopic_row
from afroadv.text import LATIN, char_script, nfc


def rngs(n=200):
    return (random.Random(i) for i in range(n))


def test_geez_substitution_stays_in_the_vowel_order_row():
    t = build_transformation("char_substitute", get_language("amh"), {})
    row = set(ethiopic_row("ሀ"))
    assert row == set("ሀሁሂሃሄህሆ")
    for rng in rngs():
        new = t.apply("ሀ", rng)
        assert new in row and new != "ሀ"


@pytest.mark.parametrize("kind", ["char_insert", "char_substitute", "char_swap", "char_delete"])
@pytest.mark.parametrize("lang,word", [("amh", "ኢትዮጵያ"), ("ary", "المغرب"), ("tir", "ትግርኛ")])
def test_no_latin_letter_ever_enters_a_geez_or_arabic_word(kind, lang, word):
    t = build_transformation(kind, get_language(lang), {})
    for rng in rngs():
        new = t.apply(word, rng)
        assert new != word
        assert not any(char_script(c) == LATIN for c in new)


def test_latin_noise_draws_letters_as_the_language_uses_them():
    """Hooks appear in Hausa noise at about their share of Hausa letters (~1%), not 4 in 30."""
    t = build_transformation("char_insert", get_language("hau"), {"keyboard_share": 0.0})
    counts = Counter()
    for rng in rngs(4000):
        new = t.apply("ruwa", rng)
        counts.update(set(new) - set("ruwa"))
    hooks = sum(counts[c] for c in "ɓɗƙƴ")
    assert 0 < hooks < 0.03 * 4000
    assert counts["n"] > counts["z"] > 0  # frequent letters more often


def test_keyboard_share_puts_slips_next_to_the_key():
    t = build_transformation("char_substitute", get_language("hau"), {"keyboard_share": 1.0})
    for rng in rngs(300):
        new = t.apply("s", rng)
        assert new in set("awedxz")


def test_keyboard_neighbours_follow_the_layout():
    assert set(load_layout("qwerty")["s"]) == set("awedxz")
    assert set(load_layout("azerty")["q"]) == set("azsw")
    assert "س" in load_layout("arabic")["ش"]


def test_yoruba_and_hausa_diacritics_stripped_letters_kept():
    t = build_transformation(
        "strip_diacritics", get_language("yor"),
        load_recipe("diacritics").steps[0].params,
    )  # fmt: skip
    assert t.apply("Ọjọ́ kẹta ìpàdé") == "Ojo keta ipade"
    assert t.apply("ƙarshen ɗan ɓera") == "karshen dan bera"
    assert t.apply("ልጆች") == "ልጆች"  # Ge'ez untouched
    assert t.apply("كَتَبَ") == "كتب"  # harakat go, letters stay


def test_protected_tokens_are_never_touched():
    p = load_recipe("charnoise").perturber(get_language("hau"), rate=1.0)
    text = "A ranar 12 ga Mayu @user ya ce https://bbc.com/hausa #Kano ruwa"
    for i in range(50):
        out = p.perturb_text(text, i).text
        for keep in ("12", "Mayu", "@user", "https://bbc.com/hausa", "#Kano"):
            assert keep in out


def test_every_shipped_recipe_changes_text_in_every_language_it_claims():
    samples = {
        "Latin": "Gwamnati ta ce ruwa ya yi tsada a kasuwa kuma yara suna makaranta",
        "Ethiopic": "መንግስት ለልጆች ገንዘብ ሰጥቷል ብሎ ተናግሯል",
        "Arabic": "الْحُكُومَة قَالَتْ بِلِّي الْمَا غَالِي بْزَّاف",
    }
    from afroadv.data.catalog import load_dataset
    for recipe in list_recipes():
        for code in recipe.supported_languages():
            lang = get_language(code)
            try:
                texts = [pp.sentence1 for pp in load_dataset(lang).pairs[:150]]
            except AfroadvError:  # no shipped dataset (e.g. Darija): script sample + lexicon words
                from afroadv.lexicons.store import load_lexicon
                lex_words = " ".join(sorted(load_lexicon(lang.lexicon).to_english)[:400])
                texts = [samples[lang.script] + " " + lex_words] * 5
            place = {"Latin": "Abuja", "Ethiopic": "አዲስ አበባ", "Arabic": "أكادير"}[lang.script]
            texts.append(f"{samples[lang.script]} 12 {place}")  # a number and a place for the directional recipes
            p = recipe.perturber(lang, set_texts=texts)  # (wordswap draws from the set's words)
            changed = sum(p.perturb_text(t, i).text != nfc(t) for i, t in enumerate(texts))  # words or punctuation
            assert changed > 0, (recipe.name, code)


def test_recipe_validation_errors_are_one_line():
    with pytest.raises(AfroadvError, match="unknown recipe field"):
        parse_recipe({"name": "x", "description": "d", "transformations": [{"kind": "char_swap"}], "ratee": 1}, "x.yaml")
    with pytest.raises(AfroadvError, match="rate must be between"):
        parse_recipe({"name": "x", "description": "d", "transformations": [{"kind": "char_swap"}], "rate": 2}, "x.yaml")
    with pytest.raises(AfroadvError, match="unknown transformation kind"):
        build_transformation("nope", get_language("hau"), {})
    with pytest.raises(AfroadvError, match="unknown recipe"):
        load_recipe("nosuch")


def test_recipe_as_a_user_yaml_file(tmp_path):
    f = tmp_path / "swaponly.yaml"
    f.write_text("name: swaponly\ndescription: swaps\nrate: 1.0\ntransformations:\n  - {kind: char_swap}\n", encoding="utf-8")
    p = load_recipe(str(f)).perturber(get_language("swa"))
    r = p.perturb_text("habari yako leo", 0)
    assert r.n_changed == 3 and sorted(r.text.replace(" ", "")) == sorted("habariyakoleo")
