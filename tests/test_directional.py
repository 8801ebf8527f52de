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


# --- the sentence edits, on hand-written sentences -------------------------------------------

def _edit(recipe: str, lang: str, text: str, seed: int = 0, set_texts=()) -> str:
    p = load_recipe(recipe).perturber(get_language(lang), set_texts=list(set_texts))
    return p.perturb_text(text, seed).text


def test_numswap_changes_one_number_clearly_and_nothing_else():
    text = "Mutane 200 sun mutu a Kano a shekarar 2019, kuma COVID-19 ta kashe 1,500 cikin 3.5 miliyan."
    numbers = ["200", "2019", "1,500", "3.5"]
    seen = set()
    for seed in range(40):
        out = _edit("numswap", "hau", text, seed)
        old, new = text.split(), out.split()
        diff = [(a, b) for a, b in zip(old, new) if a != b]
        assert len(old) == len(new) and len(diff) == 1, out
        a, b = (w.rstrip(",.") for w in diff[0])
        assert a in numbers and b != a and "COVID-19" in out and "Kano" in out
        if a == "2019":
            assert 1900 <= int(b) <= 2099 and 2 <= abs(int(b) - 2019) <= 15  # a year moves a few years
        if a == "1,500":  # its grouping kept where the new value has thousands
            assert b.count(",") == (int(b.replace(",", "")) >= 1000) and 0.2 <= abs(int(b.replace(",", "")) - 1500) / 1500 <= 0.8
        if a == "3.5":
            assert b.endswith(".5")  # decimals kept, the whole part changed
        if a == "200":
            assert int(b) % 10 == 0 and 0.2 <= abs(int(b) - 200) / 200 <= 0.8  # round stays round, ≥ a fifth
        seen.add(a)
    assert seen == set(numbers)  # every number is a site
    assert _edit("numswap", "hau", text, 7) == _edit("numswap", "hau", text, 7)
    for seed in range(10):  # two different marks: the last is the decimal mark, whatever its group's length
        out = _edit("numswap", "hau", "Sun biya 15,003.500 a bara.", seed)
        assert out.endswith(".500 a bara.") and out != "Sun biya 15,003.500 a bara."
    for alone in ("Ana ruwa a Kano COVID-19 G7.", "Alawus N45,000 ne, ko N33,00.", "Sun kashe 3.5m."):
        assert _edit("numswap", "hau", alone) == alone  # no number of its own (a group of N45,000 is not one)


def test_entityswap_replaces_a_name_by_another_of_the_same_kind():
    from afroadv.perturb.entityswap import gazetteer_names

    hau = get_language("hau")
    places = {spelling for kind, spelling, _ in gazetteer_names("hau", "Latin").values() if kind == "place"}
    persons = {spelling for kind, spelling, _ in gazetteer_names("hau", "Latin").values() if kind == "person"}
    set_texts = ["Gwamnan ya ziyarci garin Daudawa jiya.", "Shugaba Bola Ahmed Tinubu ya isa Abuja."]
    learned = {"Daudawa"}  # a place the set itself names after a cue (garin)
    for seed in range(30):
        out = _edit("entityswap", "hau", "Sun isa jihar Kano ranar Litinin.", seed, set_texts)
        new = out.removeprefix("Sun isa jihar ").removesuffix(" ranar Litinin.")
        assert new != "Kano" and new in places | learned, out
        out = _edit("entityswap", "hau", "Malam Musa ya gana da Peter Obi a Abuja.", seed, set_texts)
        assert out.count(" ") >= 7 and out != "Malam Musa ya gana da Peter Obi a Abuja."
    person = _edit("entityswap", "hau", "Mun ga Peter Obi jiya.", 3, set_texts)
    assert person.removeprefix("Mun ga ").removesuffix(" jiya.") in persons - {"Peter Obi"}
    # never a name sharing a word with the record (Bola Ahmed Tinubu -> Tinubu is no change)
    for seed in range(30):
        out = _edit("entityswap", "hau", "Bola Ahmed Tinubu ya yi magana.", seed, set_texts)
        assert "Tinubu" not in out and "Bola" not in out
    assert load_recipe("entityswap").perturber(hau).n_sites("ruwa ya yi yawa a gari.") == 0


# (language, sentence, its negation by the rule table in data/negation/<lang>.yaml)
NEGATED = [
    ("afr", "Die kos is goed.", "Die kos is nie goed nie."),
    ("afr", "Hy het dit gisteraand gedoen.", "Hy het dit nie gisteraand gedoen nie."),  # nie after an object pronoun
    ("afr", "Ek het gesê dat hy kom.", "Ek het nie gesê dat hy kom nie."),  # the second nie ends the clause
    ("afr", "Sy sal hom.", "Sy sal hom nie."),  # one nie where the two would meet
    ("afr", "Dit kan ook bepaal word.", "Dit kan ook nie bepaal word nie."),  # nie after a sentence adverb
    ("afr", "Hopelik het jy n eggenoot.", "Hopelik het jy nie n eggenoot nie."),  # inverted, pronoun subject
    ("afr", "Die uitgawes is vrygestel, soos die Beetle.", "Die uitgawes is nie vrygestel nie, soos die Beetle."),
    ("hau", "Sun tafi kasuwa.", "Ba su tafi kasuwa ba."),
    ("hau", "Ya zo jiya, amma bai tsaya ba.", "Bai zo jiya ba, amma bai tsaya ba."),
    ("hau", "An kama shi a Kano.", "Ba a kama shi a Kano ba."),
    ("hau", "Zai dawo gobe.", "Ba zai dawo gobe ba."),
    ("hau", "Za su tafi Kano.", "Ba za su tafi Kano ba."),
    ("hau", "Yana da kuɗi.", "Ba shi da kuɗi."),  # continuous + da: the independent pronoun
    ("hau", "Suna zuwa makaranta kullum.", "Ba su zuwa makaranta kullum."),  # continuous: no final ba
    ("hau", "Za su karɓi Naira 50,000 a wata.", "Ba za su karɓi Naira 50,000 a wata ba."),  # 50,000 is one number
    ("hau", "Sun sace malami, mata da yara a Zariya, jihar Kaduna.",  # a list and an apposition stay in the clause
     "Ba su sace malami, mata da yara a Zariya, jihar Kaduna ba."),
    ("hau", "Ya yi magana a lokacin da ya ke hira.", "Bai yi magana a lokacin da ya ke hira ba."),  # a lokacin: a noun
    ("hau", "Bayan ya sayi fom, sanata Uba ya gana da su.", "Bayan ya sayi fom, sanata Uba bai gana da su ba."),
    ("swa", "Alisoma kitabu.", "Hakusoma kitabu."),  # past -li- -> -ku-
    ("swa", "Wanasema Kiswahili.", "Hawasemi Kiswahili."),  # present: final -a -> -i
    ("swa", "Nitakuja kesho.", "Sitakuja kesho."),  # future -ta- stays
    ("swa", "Tumeona.", "Hatujaona."),  # perfect -me- -> -ja-
    ("swa", "Alikuwa mgonjwa.", "Hakuwa mgonjwa."),  # monosyllabic: the ku- goes in the past
    ("swa", "Anakula.", "Hali."),  # ... and in the present
    ("swa", "Atakula.", "Hatakula."),  # ... but stays in the future
    ("swa", "Ninakupenda.", "Sikupendi."),  # an object prefix stays
]
NOT_NEGATED = [
    ("afr", "Is jy moeg?"),  # a question
    ("afr", "Ek is nie moeg nie."),  # already negative
    ("afr", "Ons ouers en onderwysers is moeg en honger."),  # the second nie would fall inside "moeg en honger"
    ("afr", "Ek sien hom."),  # a lexical verb: outside the implemented subset
    ("afr", "Op 'n volgende vlak word verhale gedeel."),  # inverted with a noun subject: nie's place not checked
    ("afr", "Lepels word gebruik wanneer daar gemeet, gemeng en geroer word."),  # verb-final: subordinate
    ("afr", "Vir sy lewensverhaal het André P. Brink die titel gekies."),  # fronted phrase; P. is an initial
    ("afr", "Hy kon dit nie sien nie, want dan het die sensors die film verbied."),  # want + fronted dan: inverted
    ("hau", "Buhari ya ce zai tafi."),  # reported speech: where the final ba goes is not checked
    ("hau", "Wanda ya zo ya tafi."),  # a relative clause before the pronoun
    ("hau", "Shi ne ya zo."),  # a focus construction (relative aspect)
    ("hau", "Ta tafi kasuwa."),  # 3sg fem ta: also a preposition / linker, left out
    ("swa", "Aliyekuja ni rafiki."),  # a relative verb form
    ("swa", "Wanawake wazuri."),  # wana- of a noun is not a verb
    ("swa", "Unapenda chai."),  # 2sg u- is also a noun-class prefix: left out
]


@pytest.mark.parametrize("lang,text,negated", NEGATED)
def test_negation_follows_the_rule_table(lang, text, negated):
    assert _edit("negation", lang, text) == negated


@pytest.mark.parametrize("lang,text", NOT_NEGATED)
def test_negation_leaves_sentences_no_rule_covers(lang, text):
    p = load_recipe("negation").perturber(get_language(lang))
    assert p.n_sites(text) == 0 and p.perturb_text(text, 0).text == text


def test_negation_rule_files_cite_sources_and_refuse_other_languages():
    import yaml

    from afroadv.resources import data_dir

    for code in ("afr", "hau", "swa"):
        spec = yaml.safe_load((data_dir() / "negation" / f"{code}.yaml").read_text(encoding="utf-8"))
        assert spec["sources"] and all(isinstance(s, str) and len(s) > 40 for s in spec["sources"])
    assert load_recipe("negation").supported_languages() == ["afr", "hau", "swa"]
    with pytest.raises(AfroadvError, match="no negation rules for kin"):
        load_recipe("negation").perturber(get_language("kin"))


def test_directional_sets_change_one_side_and_are_deterministic():
    for recipe in ("numswap", "entityswap", "negation"):
        a, b = generate("hau", recipe, limit=200), generate("hau", recipe, limit=200)
        assert a.records == b.records and a.manifest == b.manifest
        changed = [r for r in a.records if r["changed"]]
        assert len(changed) >= 10, recipe
        for r in changed:
            assert (r["sentence1"] != r["orig_sentence1"]) != (r["sentence2"] != r["orig_sentence2"])
            assert r["n_changed"] == 1 and r["n_eligible"] >= 1
        assert a.manifest["recipe"]["expect"] == "decrease"
        assert generate("hau", recipe, limit=200, seed=5).records != a.records


# --- pair-aware eligibility: only what the pair shares, only pairs with similarity to lose ----------

def _pairs(recipe: str, pairs, seeds=range(30), score_scale=None, set_texts=()):
    """{seed: [(sentence1, sentence2) after the recipe, per pair]}, generated as `generate` does."""
    from afroadv.generate import perturb_pairs

    texts = list(set_texts) or [t for p in pairs for t in (p.sentence1, p.sentence2)]
    per = load_recipe(recipe).perturber(get_language(pairs[0].lang), set_texts=texts, score_scale=score_scale)
    return {seed: [(r["sentence1"], r["sentence2"]) for r in perturb_pairs(per, list(pairs), seed)] for seed in seeds}


def _pair(s1, s2, score=None, task="sts", lang="hau", id="p"):
    from afroadv.data.pairs import Pair

    return Pair(id, lang, task, s1, s2, score)


def test_numswap_changes_only_a_number_both_sides_write_on_one_side():
    shared = _pair("Mutane 200 sun mutu a shekarar 2019.", "An kashe mutane a shekarar 2019 a Kano.")
    alone = _pair("Mutane 200 sun mutu.", "An kashe mutane 15 a Kano.", id="q")  # no number on both sides
    sides = set()
    for (a, b), (c, d) in _pairs("numswap", [shared, alone]).values():
        assert (c, d) == (alone.sentence1, alone.sentence2)
        assert (a != shared.sentence1) != (b != shared.sentence2)  # one side only
        assert "200" in a and "2019" in (b if a != shared.sentence1 else a)  # 200 is not shared: never changed
        new = (a if a != shared.sentence1 else b).split("shekarar ")[1][:4]
        assert new != "2019" and new not in shared.sentence1 + shared.sentence2  # the pair no longer shares it
        sides.add(a != shared.sentence1)
    assert sides == {True, False}  # the seed picks the side


def test_numswap_compares_numbers_by_value_and_needs_them_once_on_the_changed_side():
    by_value = [_pair("Naira 1,500 ne.", "Naira 1500 ne.", id="a"), _pair("Kashi 3,5 ne.", "Kashi 3.5 ne.", id="b"),
                _pair("Naira 1,500 ne.", "Naira 15 ne.", id="c")]
    for out in _pairs("numswap", by_value).values():
        same = [o == (p.sentence1, p.sentence2) for o, p in zip(out, by_value)]
        assert same == [False, False, True], out
    # side 1 writes 10 twice (one edit would leave it shared): only side 2's 10 may change
    twice = _pair("Mutum 10 sun mutu ranar 10 ga Satumba.", "Mutum 10 sun mutu.")
    for ((a, b),) in _pairs("numswap", [twice]).values():
        assert a == twice.sentence1 and b != twice.sentence2 and "10" not in b


def test_numswap_on_bitext_needs_the_number_in_the_english_translation():
    pairs = [_pair("Sun isa a shekarar 2019.", "They arrived in 2019.", task="bitext", id="a"),
             _pair("Sun isa a shekarar 2019.", "They arrived that year.", task="bitext", id="b")]
    for (a, b), (c, d) in _pairs("numswap", pairs).values():
        assert a != pairs[0].sentence1 and b == pairs[0].sentence2 and "2019" not in a
        assert (c, d) == (pairs[1].sentence1, pairs[1].sentence2)


def test_entityswap_changes_only_a_name_both_sides_write():
    shared = _pair("Gwamnan jihar Kano ya isa Abuja jiya.", "Mutanen Kano sun yi murna.")
    alone = _pair("Gwamnan jihar Kano ya isa Abuja jiya.", "Mutane sun yi murna.", id="q")
    sides = set()
    for (a, b), (c, d) in _pairs("entityswap", [shared, alone], set_texts=[shared.sentence1]).values():
        assert (c, d) == (alone.sentence1, alone.sentence2)
        assert (a != shared.sentence1) != (b != shared.sentence2)
        assert "Abuja" in a and "Kano" in (b if a != shared.sentence1 else a)  # Abuja is not shared: kept
        sides.add(a != shared.sentence1)
    assert sides == {True, False}
    # a person named in full on one side and by surname on the other is the same name
    person = _pair("Shugaba Muhammadu Buhari ya yi magana.", "Buhari's speech was long.", task="bitext")
    for ((a, b),) in _pairs("entityswap", [person]).values():
        assert "Buhari" not in a and b == person.sentence2


def test_entityswap_on_bitext_matches_a_name_by_its_english_spelling():
    pairs = [_pair("Sun isa Najeriya jiya.", "They reached Nigeria yesterday.", task="bitext", id="a"),
             _pair("Sun isa Najeriya jiya.", "They arrived yesterday.", task="bitext", id="b")]
    for (a, b), (c, d) in _pairs("entityswap", pairs).values():
        assert "Najeriya" not in a and b == pairs[0].sentence2
        assert (c, d) == (pairs[1].sentence1, pairs[1].sentence2)


# per recipe: two related Hausa sentences it can edit, and the first one's English translation
GOLD_PAIRS = {
    "negation": ("Sun tafi kasuwa jiya da safe.", "Za su tafi makaranta gobe da yamma.", "They went to the market."),
    "wordswap": ("Sun tafi kasuwa jiya da safe.", "Za su tafi makaranta gobe da yamma.", "They went to the market."),
    "numswap": ("Sun tafi kasuwa a shekarar 2019.", "A 2019 sun je makaranta.", "They went to the market in 2019."),
    "entityswap": ("Sun tafi kasuwar Kano jiya.", "Mutanen Kano sun yi murna.", "They went to the Kano market."),
}


@pytest.mark.parametrize("recipe", list(GOLD_PAIRS))
def test_low_gold_sts_pairs_are_not_eligible_but_bitext_pairs_are(recipe):
    s1, s2, english = GOLD_PAIRS[recipe]
    pairs = [_pair(s1, s2, 0.2, id="low"), _pair(s1, s2, 0.5, id="mid"), _pair(s1, s2, 0.9, id="high"),
             _pair(s1, english, task="bitext", id="bitext")]
    set_texts = [s1, s2, "Ruwa ya yi yawa a gari."]
    runs = _pairs(recipe, pairs, range(10), set_texts=set_texts)
    for low, mid, high, bitext in runs.values():
        assert low == (s1, s2)
        assert bitext[0] != s1 and bitext[1] == english
    assert all(mid != (s1, s2) and high != (s1, s2) for _, mid, high, _ in runs.values())
    # the threshold is a share of the set's gold scale: 0.5 of 0-5 is 2.5
    on_five = [_pair(s1, s2, 2.0, id="low"), _pair(s1, s2, 3.0, id="high")]
    for low, high in _pairs(recipe, on_five, range(5), score_scale=(0.0, 5.0), set_texts=set_texts).values():
        assert low == (s1, s2) and high != (s1, s2)


def test_manifests_record_the_pair_rule_and_the_eligible_share(tmp_path):
    path = tmp_path / "pairs.csv"
    rows = ["id,sentence1,sentence2,score", "a,Sun tafi kasuwa.,Sun tafi kasuwa jiya.,0.9",
            "b,Sun tafi kasuwa.,Ruwa ya yi yawa.,0.1", "c,Sun tafi kasuwa.,Suna zuwa makaranta.,0.4"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    gs = generate("hau", "negation", dataset=str(path))
    stats = gs.manifest["stats"]
    assert gs.manifest["recipe"]["parameters"]["min_gold"] == 0.5 and stats["min_gold_score"] == 0.5
    assert stats["n_eligible_pairs"] == 1 and stats["eligible_pair_share"] == pytest.approx(1 / 3, abs=1e-6)
    assert [r["changed"] for r in gs.records] == [True, False, False]
    assert "min_gold" not in load_recipe("charnoise").params()  # invariance recipes' parameters are as before
    assert gs.records == generate("hau", "negation", dataset=str(path)).records


def test_min_gold_is_parsed_and_checked():
    assert parse_recipe({**RECIPE, "expect": "decrease", "min_gold": 0.5}, "x.yaml").min_gold == 0.5
    for bad in (-0.1, 1.5, "half", True):
        with pytest.raises(AfroadvError, match=r"x.yaml: `min_gold` must be a share of the gold scale"):
            parse_recipe({**RECIPE, "expect": "decrease", "min_gold": bad}, "x.yaml")
    with pytest.raises(AfroadvError, match="`min_gold` is for directional recipes"):
        parse_recipe({**RECIPE, "min_gold": 0.5}, "x.yaml")


def test_every_changed_hausa_pair_loses_something_it_shared():
    """On the real set: numswap's old value and entityswap's old name were on the other side and are
    gone from the changed one; every changed pair has gold ≥ 0.5."""
    for recipe in ("numswap", "entityswap", "negation", "wordswap"):
        changed = [r for r in generate("hau", recipe).records if r["changed"]]
        assert len(changed) >= 25, recipe
        for r in changed:
            side = "sentence1" if r["sentence1"] != r["orig_sentence1"] else "sentence2"
            other = r["orig_sentence2" if side == "sentence1" else "orig_sentence1"]
            assert r["score"] >= 0.5
            if recipe in ("negation", "wordswap"):
                continue
            old, new = _words(r["orig_" + side]), _words(r[side])
            gone = [w for w in old if w not in new]
            assert gone, r["id"]
            assert any(g.casefold() in other.casefold() for g in gone), (r["id"], gone, other)


# --- evaluation: the pass rate, its CI, the report, the gate ----------------------------------

def _angle_encoder(texts):
    """A deterministic fake encoder: a sentence's embedding turns with the first number it holds, and
    sentences starting with "Ba" (the pairs meant to fail) all get the same embedding."""
    import numpy as np
    import regex

    out = []
    for t in texts:
        m = regex.search(r"\d+", t)
        theta = 0.0 if t.startswith("Ba") or m is None else int(m.group()) / 1000
        out.append([np.cos(theta), np.sin(theta)])
    return np.array(out)


@pytest.fixture()
def number_pairs(tmp_path):
    """10 identical-sentence pairs, each with one number: 6 the fake encoder sees, 4 it does not."""
    path = tmp_path / "pairs.csv"
    rows = ["id,sentence1,sentence2,score"]
    for i in range(10):
        s = f"{'Ba' if i < 4 else 'Mutane'} {100 + 37 * i} sun zo kasuwa."
        rows.append(f"p{i},{s},{s},{0.5 + i / 20}")  # (gold ≥ 0.5: every pair may lose similarity)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_pass_rate_and_its_ci_are_computed_exactly(number_pairs, tmp_path):
    import numpy as np

    import afroadv
    from afroadv.metrics import bootstrap_indices

    doc = afroadv.evaluate(_angle_encoder, lang="hau", recipes="numswap", dataset=str(number_pairs), bootstrap=200,
                           out=tmp_path / "r.json")
    (row,) = [r for r in doc["results"] if r["recipe"] == "numswap"]
    assert row["expect"] == "decrease" and row["n"] == 10 and row["n_pairs"] == 10 and row["dir_margin"] == 0
    assert row["directional_pass_rate"] == 0.6  # the 6 pairs whose number the encoder sees
    passed = np.array([0.0] * 4 + [1.0] * 6)
    idx = bootstrap_indices(10, 200, 0)
    lo, hi = np.percentile(passed[idx].mean(axis=1), [2.5, 97.5])
    assert row["directional_pass_rate_ci"] == [round(lo, 4), round(hi, 4)]
    assert not any(r["recipe"] == "clean" for r in doc["results"])  # only directional sets: no drop table rows
    strict = afroadv.evaluate(_angle_encoder, lang="hau", recipes="numswap", dataset=str(number_pairs), bootstrap=200,
                              dir_margin=2.0)
    assert strict["results"][0]["directional_pass_rate"] == 0.0 and strict["manifest"]["dir_margin"] == 2.0

    from afroadv.evaluate import format_table

    assert "pass  60.0%" in format_table(doc)


def test_directional_rows_on_bitext_and_next_to_drops(number_pairs):
    import afroadv

    doc = afroadv.evaluate(_angle_encoder, lang="swa", recipes="negation,charnoise", limit=60, bootstrap=100)
    rows = {r["recipe"]: r for r in doc["results"]}
    assert rows["negation"]["task"] == "bitext" and rows["negation"]["n"] > 0 and "drop" in rows["charnoise"]
    assert 0 <= rows["negation"]["directional_pass_rate"] <= 1


def test_report_gives_directional_sets_their_own_table(number_pairs, tmp_path):
    import afroadv
    from afroadv.report import build_report

    afroadv.evaluate(_angle_encoder, lang="hau", recipes="charnoise,numswap", dataset=str(number_pairs), bootstrap=100,
                     out=tmp_path / "r.json")
    paths = build_report([tmp_path / "r.json"], tmp_path / "rep", ["md", "html", "csv", "parquet"])
    md = paths["markdown"].read_text(encoding="utf-8")
    section = md[md.index("## Directional tests (should change)"):]
    assert "| numswap | _angle_encoder | 10 | 100.0% | 0 | 60.0% [" in section
    assert "numswap" not in md[: md.index("## Directional")].split("## Semantic similarity")[1]  # not in the drop table
    assert "Directional tests (should change)" in paths["html"].read_text(encoding="utf-8")
    csv = paths["csv"].read_text(encoding="utf-8")
    assert ",numswap,decrease,directional_pass_rate,10," in csv


def test_check_fails_a_pass_rate_that_falls_beyond_its_limit(number_pairs, tmp_path):
    import copy

    import afroadv

    base = afroadv.evaluate(_angle_encoder, lang="hau", recipes="numswap", dataset=str(number_pairs), bootstrap=100)
    assert afroadv.check(base, base).passed
    worse = copy.deepcopy(base)
    worse["results"][0].update(directional_pass_rate=0.3, directional_pass_rate_ci=[0.1, 0.5])
    result = afroadv.check(worse, base)
    (cell,) = result.failed
    assert cell.measure == "pass_rate" and cell.worse_by == pytest.approx(30.0)
    slightly = copy.deepcopy(base)
    slightly["results"][0].update(directional_pass_rate=0.57)  # 3 points: under the default limit of 5
    assert afroadv.check(slightly, base).passed


@pytest.mark.parametrize("value", ["abc", "-0.1", "nan", "3"])
def test_bad_dir_margin_is_one_line_and_exit_2(value, tmp_path):
    from conftest import run_cli_here

    for args in (["evaluate", "--lang", "hau", "--recipe", "numswap", "--out", tmp_path / "r.json"],
                 ["sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "numswap", "--out", tmp_path / "sw"]):
        r = run_cli_here(*args, "--dir-margin", value)
        assert r.returncode == 2 and r.stderr.startswith("afroadv: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert "--dir-margin" in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "r.json").exists() and not (tmp_path / "sw").exists()


def test_attack_and_augmentation_refuse_directional_recipes():
    from afroadv.attack.core import AttackSpace

    for recipe in ("numswap", "wordswap"):
        with pytest.raises(AfroadvError, match="directional test"):
            AttackSpace.build(recipe, "hau")
    with pytest.raises(AfroadvError, match="training augmentation cannot use it"):
        load_recipe("negation").require_invariance("training augmentation")


def test_written_directional_sets_evaluate_from_files_and_refuse_mteb_export(number_pairs, tmp_path):
    import afroadv
    from afroadv.export import export_set

    path = tmp_path / "hau-numswap.jsonl"
    afroadv.generate("hau", "numswap", dataset=str(number_pairs)).save(path)
    doc = afroadv.evaluate(_angle_encoder, sets=[path], bootstrap=100)
    (row,) = doc["results"]
    assert row["expect"] == "decrease" and row["directional_pass_rate"] == 0.6
    with pytest.raises(AfroadvError, match="directional set"):
        export_set(path, "mteb", tmp_path / "mteb")
    export_set(path, "mteb", tmp_path / "mteb-clean", clean=True)  # the clean pairs keep their gold


def test_sides_either_changes_one_side_for_word_recipes_too():
    gs = generate("hau", "charnoise", limit=60, sides="either")
    changed = [r for r in gs.records if r["changed"]]
    firsts = [r["sentence1"] != r["orig_sentence1"] for r in changed]
    assert all(f != (r["sentence2"] != r["orig_sentence2"]) for f, r in zip(firsts, changed))
    assert 0 < sum(firsts) < len(changed)


def test_directional_recipe_on_unpaired_text_is_refused_before_any_model(tmp_path):
    """Checked before the model is even resolved: a missing model folder is not what the user hears."""
    from conftest import run_cli_here

    r = run_cli_here("evaluate", "--model", str(tmp_path / "no-such-model"), "--lang", "hau", "--dataset", "tweets",
                     "--recipe", "negation", "--limit", "5", "--out", tmp_path / "e.json")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert "directional recipe 'negation' needs pairs" in r.stderr and not (tmp_path / "e.json").exists()
    r = run_cli_here("generate", "--lang", "hau", "--dataset", "tweets", "--recipe", "numswap", "--out", tmp_path / "g.jsonl")
    assert r.returncode == 2 and "needs pairs" in r.stderr and not (tmp_path / "g.jsonl").exists()
