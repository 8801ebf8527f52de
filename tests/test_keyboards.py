"""African keyboard layouts (data/keyboards): CLDR AltGr layers for Hausa, Yoruba, Igbo and the
phonetic Ge'ez layouts for Amharic, Tigrinya drive the `keyboard` recipe."""

import random
import unicodedata

import pytest

from afroadv.errors import AfroadvError
from afroadv.langs import get_language
from afroadv.perturb import load_recipe
from afroadv.perturb import keyboard as kb
from afroadv.perturb.base import build_transformation
from afroadv.perturb.scripts import ethiopic_row
from afroadv.resources import data_dir
from afroadv.text import ETHIOPIC, char_script

LAYOUTS = sorted(p.stem for p in (data_dir() / "keyboards").glob("*.yaml"))


def outcomes(kind, code, word, n=400):
    t = build_transformation(kind, get_language(code), {})
    return {t.apply(word, random.Random(i)) for i in range(n)}


def changes(code, text, n=60):
    """(old word, new word) of every change the keyboard recipe makes to `text` over n seeds."""
    p = load_recipe("keyboard").perturber(get_language(code), rate=1.0)
    return [(old, new) for key in range(n) for _, old, new in p.perturb_text(text, key).changes]


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_shipped_layout_parses_and_slips_never_return_the_unit(name):
    layout = kb.load_keyboard(name)
    assert layout.substitutes
    for unit, slips in [*layout.substitutes.items(), *layout.strays.items()]:
        assert unit not in slips.options and all(unicodedata.is_normalized("NFC", o) for o in slips.options)


def test_languages_declare_the_african_layouts():
    assert {c: get_language(c).keyboard for c in ("hau", "yor", "ibo", "amh", "tir")} == {
        "hau": "hausa", "yor": "yoruba", "ibo": "igbo", "amh": "amharic-phonetic", "tir": "tigrinya-phonetic"}
    rec = load_recipe("keyboard")
    assert rec.supports(get_language("amh")) and rec.supports(get_language("tir"))


def test_manifests_record_the_layout():
    """A review registered for QWERTY Hausa slips must not describe AltGr-layout sets."""
    versions = {c: load_recipe("keyboard").perturber(get_language(c)).resource_versions["keyboard"] for c in ("hau", "kin", "swa")}
    assert versions["hau"].startswith("hausa@") and versions["kin"] == versions["swa"] != versions["hau"].replace("hausa", "qwerty")


def test_charnoise_keeps_reading_plain_key_neighbours():
    """The layers add letters, not keys: charnoise's neighbour table is QWERTY's; a Ge'ez layout gives none."""
    assert kb.load_layout("hausa") == kb.load_layout("yoruba") == kb.load_layout("igbo") == kb.load_layout("qwerty")
    assert kb.load_layout("amharic-phonetic") == {} == kb.load_layout("tigrinya-phonetic")


def test_hausa_altgr_slips():
    # ƙ (AltGr+K): AltGr missed (k, the most likely slip) or a key beside K (i o j l m)
    slips = kb.load_keyboard("hausa").substitutes["ƙ"]
    assert slips.options[0] == "k" and slips.cum[0] > slips.cum[-1] / 2
    assert outcomes("key_substitute", "hau", "ƙasa") >= {"kasa", "ƙaza", "lasa"}
    assert "ƙ" not in kb.load_keyboard("hausa").substitutes["k"].options  # AltGr held on K: weight 0 since review
    assert "ɓ" not in "".join(kb.load_keyboard("hausa").substitutes["ƙ"].options)
    assert outcomes("key_substitute", "hau", "Ƙasa") >= {"Kasa"}  # a capital stays a capital


def test_igbo_and_yoruba_layers():
    assert {"ụ", "ọ", "i"} <= set(kb.load_keyboard("igbo").substitutes["ị"].options)  # AltGr+U, AltGr+O beside AltGr+I
    assert outcomes("key_substitute", "yor", "ẹgbẹ") >= {"egbẹ", "ẹgbe", "ṣgbẹ"}  # \e: dead key missed; \s beside
    assert "ba" in outcomes("key_substitute", "yor", "bá")  # the acute dead key missed: the tone mark goes
    # ọ́ (AltGr+A) is one unit: a slip replaces the whole cluster, never leaves a stray mark
    for new in outcomes("key_substitute", "yor", "ọ́"):
        assert not unicodedata.combining(new[0]) and unicodedata.is_normalized("NFC", new)


@pytest.mark.parametrize("code,text,special", [
    ("hau", "Ƙasar ta ƙara ɗaukar matakai don ɓarayin shanu a yankin", "ƙɗɓƙ"),
    ("yor", "Ẹgbẹ́ náà ṣe ìpàdé pẹ̀lú àwọn ọmọ ẹgbẹ́", "ẹọṣ"),
    ("ibo", "Ndị ọrụ ahụ gara ụlọ akwụkwọ", "ịọụ"),
])  # fmt: skip
def test_african_layouts_drive_keyboard_latin(code, text, special):
    """AltGr (or dead key) missed on a special letter, and neighbouring-key slips, on real sentences."""
    seen = changes(code, text)
    missed = [(o, n) for o, n in seen if len(o) == len(n) and any(a in special and b.isascii() for a, b in zip(o, n))]
    neighbour = [(o, n) for o, n in seen if len(o) == len(n) and any(a != b and (a + b).isascii() for a, b in zip(o, n))]
    assert missed and neighbour
    assert all(unicodedata.is_normalized("NFC", n) for _, n in seen)


def test_amharic_phonetic_slips_are_the_layouts():
    # ለ is typed l e: e missed → ል; L beside K and P → ከ ፐ (same order)
    assert outcomes("key_substitute", "amh", "ለ") == {"ል", "ከ", "ፐ"}
    # ሉ is l u: u beside i → ሊ (same consonant, another order)
    assert outcomes("key_substitute", "amh", "ሉ") == {"ል", "ሊ", "ኩ", "ፑ"}
    assert {"ጥ", "ተ", "ረ", "የ", "ፈ", "ገ"} == outcomes("key_substitute", "amh", "ጠ")  # T: Shift missed → ተ
    assert "ሰ" in outcomes("key_substitute", "amh", "ሠ")  # s s: one s missed
    assert "ቐ" in outcomes("key_substitute", "tir", "ቀ") and "ቐ" not in outcomes("key_substitute", "amh", "ቀ")
    assert outcomes("key_insert", "amh", "ለ") == {"ክለ", "ለክ", "ፕለ", "ለፕ"}


@pytest.mark.parametrize("code,text", [("amh", "ኢትዮጵያ ውስጥ የሚገኙ ሰዎች ዛሬ ስለ ሰላም ተነጋገሩ"),
                                       ("tir", "ኣብ ኤርትራ ዝነብሩ ሰባት ብዛዕባ ሰላም ተዘራሪቦም")])  # fmt: skip
def test_african_layouts_drive_keyboard_geez(code, text):
    seen = changes(code, text)
    assert seen
    same_row = other_row = 0
    for old, new in seen:
        assert all(char_script(c) == ETHIOPIC for c in new if c.isalpha())  # no Latin leaks
        if len(old) == len(new):
            (a, b), = [(x, y) for x, y in zip(old, new) if x != y]
            if b in ethiopic_row(a):
                same_row += 1  # wrong vowel key: the same consonant, another order
            else:
                other_row += 1
                assert ethiopic_row(a).index(a) == ethiopic_row(b).index(b)  # neighbouring consonant, same order
    assert same_row and other_row


def test_protected_names_and_numbers_untouched():
    p = load_recipe("keyboard").perturber(get_language("hau"), rate=1.0)
    for key in range(40):
        out = p.perturb_text("Ranar 12 ga Mayu Aminu ya je Kano ƙasar ƙwallo", key).text
        assert all(w in out.split() for w in ("12", "Mayu", "Aminu", "Kano"))
    assert p.perturb_text("ƙasar ƙwallo ɗaukar", 7) == p.perturb_text("ƙasar ƙwallo ɗaukar", 7)


@pytest.mark.parametrize("body,needle", [
    ("rows: [", "not valid YAML"),
    ("- just a list", "expected a mapping"),
    ("rows_from: qwerty\nlayers:\n  - {via: shift, keys: {k: ƙ}}\nslips: {}", "every layer needs"),
    ("rows_from: qwerty\nlayers:\n  - {via: altgr, keys: {'1': ƙ}}\n", "not a key of the rows"),
    ("rows_from: qwerty\nlayers:\n  - {via: altgr, keys: {k: ƙ}}\nslips: {key_neighbour: 1}", "`slips` must give"),
    ("rows_from: qwerty\nsyllabic: {consonants: {l: a}, orders: {}}\nslips: {vowel_neighbour: 1, vowel_missed: 1,"
     " consonant_neighbour: 1, consonant_missed: 1, shift_slip: 1}", "1st-order Ge'ez syllable"),
    ("rows_from: nowhere", "unknown keyboard layout 'nowhere'"),
])  # fmt: skip
def test_bad_layout_file_is_one_line_error(tmp_path, monkeypatch, body, needle):
    (tmp_path / "keyboards").mkdir()
    (tmp_path / "keyboards" / "qwerty.yaml").write_text((data_dir() / "keyboards" / "qwerty.yaml").read_text())
    (tmp_path / "keyboards" / "bad.yaml").write_text(body, encoding="utf-8")
    monkeypatch.setattr(kb, "data_dir", lambda: tmp_path)
    kb.load_keyboard.cache_clear()
    try:
        with pytest.raises(AfroadvError) as e:
            kb.load_keyboard("bad")
    finally:
        kb.load_keyboard.cache_clear()
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_unknown_layout_in_a_recipe_is_a_cli_error(tmp_path):
    from conftest import run_cli

    recipe = tmp_path / "kb.yaml"
    recipe.write_text("name: kb\ndescription: slips on a layout that is not there\nrate: 0.2\ntransformations:\n  - {kind: key_substitute, params: {layout: dvorak}}\n")
    r = run_cli("generate", "--lang", "hau", "--recipe", str(recipe), "--limit", "2", "--out", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and r.stderr.strip().startswith("afroadv: error:") and "dvorak" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "o.jsonl").exists()
