"""Languages outside the registry (issue 13, item 1): an ISO 639-3 code plus --dataset runs every
script-level recipe, with script, alphabet and letters learned from the data; never mixing scripts,
names and numbers untouched, NFC, deterministic; recipes that need curated resources refuse in one line."""

import hashlib
import json
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import afroadv
from afroadv.data.readers import read_lines
from afroadv.learned import learn_profile, learned_language
from afroadv.perturb import load_recipe
from afroadv.perturb.rng import stream_key
from afroadv.perturb.vector import VectorKernel
from afroadv.resources import data_dir
from afroadv.text import WORD, char_script, nfc, segment

from conftest import SHARED, run_cli_here
from test_properties import texts
from test_vector import reference

DATA = Path(__file__).parent / "data"
KAB = DATA / "kab_sentences.tsv"  # simple Kabyle sentences (Latin script: ɣ ɛ ḍ ḥ ṭ ẓ č) with English
ARZ = DATA / "arz_sentences.txt"  # simple Egyptian Arabic sentences, a few Latin words inside
KAB_NAMES = {"Tizi", "Wezzu", "Ɛmer", "Lwennas", "Bgayet", "Muḥend", "Aḥmed"}
ARZ_NAMES = {"أمريكا", "أوروبا"}  # in the reviewed gazetteer (data/names; القاهرة, مصر are also common words there)
DIGITS = {"3", "2019", "2015", "45", "5", "100"}


def shared_ntrex(code: str) -> Path:
    path = (SHARED or Path("/nonexistent")) / "ntrex128" / f"newstest2019-ref.{code}.txt"
    if not path.exists():
        pytest.skip(f"needs ../shared/data/ntrex128/newstest2019-ref.{code}.txt (a maintainer's checkout)")
    return path


def generate(tmp_path, *args, name="set.jsonl"):
    out = tmp_path / name
    r = run_cli_here("generate", *args, "--out", out)
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    manifest = json.loads(out.with_name(out.stem + ".manifest.json").read_text(encoding="utf-8"))
    return out, records, manifest


def scripts_of(word: str) -> set[str]:
    return {char_script(c) for c in word if c.isalpha()}


def check_edits(records, names=frozenset()) -> Counter:
    """Every edit stays in its word's script(s), adds no mark, keeps names and digits; output is NFC.
    Returns the letters the edits added."""
    added_all = Counter()
    for r in records:
        assert unicodedata.is_normalized("NFC", r["sentence1"]) and unicodedata.is_normalized("NFC", r["sentence2"])
        old, new = r["orig_sentence1"].split(" "), r["sentence1"].split(" ")
        assert len(old) == len(new)  # a typo never splits or joins words
        for o, n in zip(old, new):
            if o == n:
                continue
            assert o.strip(".,?!؟،\"") not in names | DIGITS, (o, n)
            added = Counter(n) - Counter(o)
            added_all.update(added)
            for c in added:
                assert char_script(c) in scripts_of(o), (o, n, c)  # never a letter of another script
                assert len(unicodedata.normalize("NFD", c)) == 1, (o, n, c)  # a typo never adds a mark
    return added_all


def test_kabyle_charnoise_learns_latin_letters_and_keeps_names(tmp_path):
    _, records, manifest = generate(tmp_path, "--lang", "kab", "--recipe", "charnoise", "--dataset", KAB, "--rate", "1")
    added = check_edits(records, KAB_NAMES)
    assert sum(r["changed"] for r in records) >= 25
    assert set("ɣɛ") & set(added)  # typos draw the language's own letters, learned from the data
    profile = manifest["language_profile"]
    assert profile["learned_from"] == "dataset" and profile["script"] == "Latin" and not profile["script_forced"]
    assert {"ɣ", "ɛ", "č", "ḥ"} <= set(profile["alphabet"]) and not set("abcxyz") & set(profile["alphabet"])
    texts = [line.split("\t")[0] for line in read_lines(KAB)[1:]]
    assert profile["letters_sha256"] == learn_profile(texts).letters_sha256
    assert manifest["lexicons"]["letters"] == f"kab@{profile['letters_sha256'][:12]}"
    assert all(r["lang"] == "kab" and r["sentence2"] == r["orig_sentence2"] for r in records)  # English anchor untouched


def test_kabyle_is_deterministic_and_a_limit_is_a_prefix(tmp_path):
    a, records, _ = generate(tmp_path, "--lang", "kab", "--recipe", "charnoise", "--dataset", KAB, "--seed", "7", name="a.jsonl")
    b, _, _ = generate(tmp_path, "--lang", "kab", "--recipe", "charnoise", "--dataset", KAB, "--seed", "7", name="b.jsonl")
    assert a.read_bytes() == b.read_bytes()
    manifests = [json.loads(p.with_name(p.stem + ".manifest.json").read_text()) for p in (a, b)]
    assert manifests[0]["language_profile"] == manifests[1]["language_profile"]
    _, head, manifest = generate(tmp_path, "--lang", "kab", "--recipe", "charnoise", "--dataset", KAB, "--seed", "7",
                                 "--limit", "5", name="c.jsonl")
    assert head == records[:5]  # the profile is learned from the whole dataset, whatever the limit


def test_kabyle_diacritics_strips_marks_keeps_letters(tmp_path):
    _, records, _ = generate(tmp_path, "--lang", "kab", "--recipe", "diacritics", "--dataset", KAB)
    out = " ".join(r["sentence1"] for r in records)
    assert not set("ḍḥṭẓčṛ") & set(out.lower()) and {"ɣ", "ɛ"} <= set(out)  # ɣ ɛ are letters, not marks
    assert "Ruḥeɣ".lower() not in out and "ruheɣ" in out


def test_arabic_dialect_charnoise_never_mixes_scripts(tmp_path):
    _, records, manifest = generate(tmp_path, "--lang", "arz", "--recipe", "charnoise", "--dataset", ARZ, "--rate", "1")
    added = check_edits(records, ARZ_NAMES)
    assert all(r["task"] == "invariance" for r in records)  # a .txt file: each sentence against its perturbed self
    assert manifest["language_profile"]["script"] == "Arabic"
    assert any(char_script(c) == "Arabic" for c in added)
    latin = [(o, n) for r in records for o, n in zip(r["orig_sentence1"].split(" "), r["sentence1"].split(" "))
             if o in ("laptop", "email") and o != n]
    assert latin and all(scripts_of(n) == {"Latin"} for _, n in latin)  # a Latin word inside gets Latin letters


def test_script_subtag_and_forced_script(tmp_path):
    _, records, manifest = generate(tmp_path, "--lang", "kab-Latn", "--recipe", "charnoise", "--dataset", KAB)
    assert manifest["lang"] == "kab" and manifest["language_profile"]["script_forced"]
    _, plain, _ = generate(tmp_path, "--lang", "kab", "--recipe", "charnoise", "--dataset", KAB, name="plain.jsonl")
    assert records == plain  # forcing the script it has changes nothing but the record of it
    _, mixed, m = generate(tmp_path, "--lang", "arz", "--recipe", "charnoise", "--dataset", ARZ, "--script", "latn",
                           name="forced.jsonl")
    assert m["language_profile"]["script"] == "Latin" and m["language_profile"]["alphabet"] == ""
    check_edits(mixed, ARZ_NAMES)  # forcing a script relabels the language; each word keeps its own letters


@pytest.mark.parametrize("recipe, names", [
    ("codeswitch", ["a bilingual lexicon", "afroadv lexicon induce", "data/languages.yaml"]),
    ("keyboard", ["a keyboard layout", "data/languages.yaml"]),
    ("lexsub", ["spelling variants", "data/languages.yaml"]),
    ("translit", ["romanize", "data/languages.yaml"]),
])  # fmt: skip
def test_recipes_needing_curated_resources_refuse_in_one_line(tmp_path, recipe, names):
    r = run_cli_here("generate", "--lang", "kab", "--recipe", recipe, "--dataset", KAB, "--out", tmp_path / "x.jsonl")
    assert r.returncode == 2 and r.stderr.startswith("afroadv: error: ") and r.stderr.count("\n") == 1
    assert all(n in r.stderr for n in names) and "charnoise, diacritics" in r.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("args, says", [
    (["--lang", "kab", "--dataset", KAB, "--script", "Cyrillic"], "unknown script"),
    (["--lang", "kab", "--dataset", KAB, "--script", ""], "unknown script"),
    (["--lang", "kab", "--dataset", KAB, "--script", "Arabic"], "has no Arabic letters"),
    (["--lang", "kab-Arab", "--dataset", KAB, "--script", "Latin"], "contradicts"),
    (["--lang", "kab-Tfng", "--dataset", KAB], "unknown script"),
    (["--lang", "hau", "--script", "Arabic"], "registered as Latin"),
    (["--lang", "sna-Arab"], "Latin script in the registry"),
    (["--lang", "kab"], "give --dataset FILE"),
    (["--lang", "kabyle", "--dataset", KAB], "ISO 639-3 code"),
    (["--lang", "ka", "--dataset", KAB], "ISO 639-3 code"),
    (["--lang", "und", "--dataset", KAB], "not a language"),
])  # fmt: skip
def test_bad_languages_and_scripts_are_one_line_errors(tmp_path, args, says):
    r = run_cli_here("generate", *args, "--recipe", "charnoise", "--out", tmp_path / "x.jsonl")
    assert r.returncode == 2 and r.stderr.startswith("afroadv: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert says in r.stderr
    assert not list(tmp_path.iterdir())


def test_evaluate_takes_the_same_script_option(tmp_path):
    r = run_cli_here("evaluate", "--model", "tiny-xlmr", "--lang", "kab", "--recipe", "charnoise", "--dataset", KAB,
                     "--script", "Klingon", "--out", tmp_path / "r.json")
    assert r.returncode == 2 and "unknown script" in r.stderr and r.stderr.count("\n") == 1


def _bigram_encoder(texts):
    out = np.zeros((len(texts), 64))
    for i, t in enumerate(texts):
        for a, b in zip(t, t[1:]):
            out[i, int(hashlib.md5((a + b).encode()).hexdigest(), 16) % 64] += 1
    return out


def test_python_api_generate_perturb_and_evaluate(tmp_path):
    gs = afroadv.generate("kab", "charnoise", dataset=str(KAB), seed=3)
    texts = [line.split("\t")[0] for line in read_lines(KAB)[1:]]
    for rec in gs.records[:8]:  # perturb() gives what generate writes for a pair with that sentence and id
        got = afroadv.perturb(rec["orig_sentence1"], "kab", "charnoise", seed=3, id=rec["source_id"], context=texts)
        assert got == rec["sentence1"]
    assert gs.manifest["language_profile"]["script"] == "Latin"
    doc = afroadv.evaluate(_bigram_encoder, lang="kab", recipes="all", dataset=str(KAB), bootstrap=200)
    assert {r["recipe"] for r in doc["results"]} == {"clean", "charnoise", "diacritics"}
    sets = doc["manifest"]["sets"]
    assert sets and all(s["language_profile"]["letters_sha256"] == gs.manifest["language_profile"]["letters_sha256"]
                        for s in sets)
    with pytest.raises(afroadv.AfroadvError, match="bilingual lexicon"):
        afroadv.perturb("Ad ruḥeɣ ɣer tala.", "kab", "codeswitch")


def test_suite_and_langs_listing(tmp_path):
    r = run_cli_here("generate", "--lang", "kab", "--recipe", "all", "--dataset", KAB, "--out", tmp_path / "suite")
    assert r.returncode == 0, r.stderr
    index = json.loads((tmp_path / "suite" / "suite.json").read_text())
    assert [(s["lang"], s["recipe"]) for s in index["sets"]] == [("kab", "charnoise"), ("kab", "diacritics")]
    r = run_cli_here("langs")
    assert r.returncode == 0 and "--dataset" in r.stdout and "ISO 639-3" in r.stdout


def test_a_recipe_may_name_a_language_outside_the_registry(tmp_path):
    recipe = tmp_path / "kab-keys.yaml"
    recipe.write_text("name: kab-keys\ndescription: AZERTY slips for Kabyle\nlanguages: [kab]\n"
                      "transformations:\n  - {kind: key_substitute, params: {layout: azerty}}\n", encoding="utf-8")
    _, records, manifest = generate(tmp_path, "--lang", "kab", "--recipe", recipe, "--dataset", KAB)
    assert manifest["recipe"]["name"] == "kab-keys" and any(r["changed"] for r in records)


@pytest.mark.parametrize("code", ["mey", "arb"])
def test_ntrex_arabic_script_languages_from_a_user_file(tmp_path, code):
    path = shared_ntrex(code)
    _, records, manifest = generate(tmp_path, "--lang", code, "--recipe", "charnoise", "--dataset", path, "--limit", "300")
    check_edits(records)
    assert manifest["language_profile"]["script"] == "Arabic" and manifest["stats"]["changed_share"] > 0.8
    _, records, _ = generate(tmp_path, "--lang", code, "--recipe", "diacritics", "--dataset", path, "--limit", "300",
                             name="d.jsonl")
    harakat = {chr(c) for c in range(0x064B, 0x0653)}
    assert not harakat & set("".join(r["sentence1"] for r in records))


def test_geez_script_text_under_an_unregistered_code(tmp_path):
    # Tigrinya NTREX text standing in for a Ge'ez-script language outside the registry
    path = data_dir() / "bitext" / "ntrex128" / "newstest2019-ref.tir.txt"
    _, records, manifest = generate(tmp_path, "--lang", "xgz", "--recipe", "charnoise", "--dataset", path,
                                    "--limit", "100", "--rate", "1")
    check_edits(records)
    assert manifest["language_profile"]["script"] == "Ethiopic"
    r = run_cli_here("generate", "--lang", "xgz", "--recipe", "translit", "--dataset", path, "--out", tmp_path / "t.jsonl")
    assert r.returncode == 2 and "romanize" in r.stderr


def test_vendored_ntrex_sets_are_datasets_of_learned_languages():
    gs = afroadv.generate("mlg", "charnoise", dataset="ntrex", limit=20)  # Malagasy: data/bitext/ntrex128
    assert gs.manifest["dataset"]["name"] == "ntrex" and gs.records[0]["task"] == "bitext"
    assert gs.manifest["language_profile"]["script"] == "Latin"


def test_names_without_case_are_learned_from_the_english_side():
    # Hassaniya NTREX with its English translations: the alignment links لندن to London, ترامب to Trump ...
    gs = afroadv.generate("mey", "charnoise", dataset="ntrex", limit=400, rate=1.0)
    names = {"لندن", "ترامب", "تشيلسي", "كافانو", "اليونان"}
    check_edits(gs.records, names)
    assert len({w for r in gs.records for w in r["orig_sentence1"].split(" ")} & names) >= 4
    assert gs.manifest["language_profile"]["names"] > 500  # the gazetteer's 234 and the aligned ones


@pytest.mark.parametrize("source", ["arz", "mey"])
def test_kernel_matches_the_plain_rule_for_learned_languages(source):
    path = ARZ if source == "arz" else shared_ntrex(source)
    texts = read_lines(path)[:300]
    p = load_recipe("charnoise").perturber(learned_language(source, texts), rate=0.5)
    kern = VectorKernel.build(p)
    assert kern is not None
    keys = [stream_key(2, "charnoise", source, i) for i in range(len(texts))]
    got = kern.run([nfc(t) for t in texts], keys, [0] * len(texts))
    assert got == [reference(p, t, k, 0) for t, k in zip(texts, keys)]
    assert sum(g is not None for g in got) > 0.5 * len(texts)


# sha256 of `afroadv generate --lang L --recipe charnoise --limit 50 --out L.jsonl` (seed 0) on main before
# languages outside the registry existed: learning languages from data changes nothing for registered ones
REGISTERED = {
    "hau": "d60bdfe01f45bd183194cbd62d0f772bcdb33fab9f18c28267b631fcf33f7e7b",
    "amh": "7b5c57eb3770781a4436c5198f4908fac0014534a3b23e569c9feda2704d32ee",
}


@pytest.mark.parametrize("code", sorted(REGISTERED))
def test_registered_languages_output_unchanged(tmp_path, code):
    out, _, manifest = generate(tmp_path, "--lang", code, "--recipe", "charnoise", "--limit", "50")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == REGISTERED[code]
    assert "language_profile" not in manifest


def test_mteb_metadata_tags_the_learned_script():
    from afroadv.export import mteb_metadata

    gs = afroadv.generate("arz", "charnoise", dataset=str(ARZ))
    meta = mteb_metadata(gs.records, gs.manifest, {"lang": "arz", "recipe": "charnoise", "dataset": "arz", "set": "x.jsonl",
                                                   "clean": False})
    assert meta["eval_langs"] == ["arz-Arab"]


LEARNED = {"kab": [line.split("\t")[0] for line in read_lines(KAB)[1:]], "arz": read_lines(ARZ)}


@pytest.mark.parametrize("recipe", ["charnoise", "diacritics"])
@pytest.mark.parametrize("code", sorted(LEARNED))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rate=st.sampled_from([0.1, 0.5, 1.0]), seed=st.integers(0, 2**32))
def test_learned_language_properties_on_any_text(recipe, code, data, rate, seed):
    p = load_recipe(recipe).perturber(learned_language(code, LEARNED[code]), rate=rate)
    text = data.draw(texts("hau"))
    res = p.perturb_text(text, seed)
    assert unicodedata.is_normalized("NFC", res.text)
    segs = segment(nfc(text))
    positions = [i for i, sg in enumerate(segs) if sg.kind == WORD]
    rebuilt = [sg.text for sg in segs]
    for i, old, new in res.changes:  # only the reported words changed, each within its own script(s)
        assert rebuilt[positions[i]] == old and not any(char_script(c) not in scripts_of(old) for c in new if c.isalpha())
        rebuilt[positions[i]] = new
    assert nfc("".join(rebuilt)) == res.text


def test_recipe_all_means_the_same_in_generate_and_evaluate_outside_the_registry():
    """`--recipe all` on a learned language: every invariance recipe it supports, arabizi included
    for a code with Arabizi conventions, in evaluate as in generate's suites (recipes_for)."""
    from afroadv.evaluate import expand_recipes
    from afroadv.learned import language_for_texts
    from afroadv.perturb.recipe import recipes_for

    mey = language_for_texts("mey", ["كيفاش داير اليوم", "الناس فالسوق"])
    assert "arabizi" in expand_recipes(mey, ["all"]) == [r.name for r in recipes_for(mey)]
    assert expand_recipes(mey, ["charnoise"]) == ["charnoise"]
