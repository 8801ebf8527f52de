"""Lexicon induction (synthetic bitext with planted pairs), curated-source parsing, shipped files."""

from __future__ import annotations

import csv
import json
import random
import unicodedata

import pytest

from afroadv.errors import AfroadvError
from afroadv.langs import registry
from afroadv.lexicons.build import (
    NTREX,
    clean_wold_meaning,
    gatitos_rows,
    hausa_plain,
    mark_rejected,
    ntrex_rows,
    read_review,
    single_token,
    wold_rows,
)
from afroadv.lexicons.induce import induce_lexicon, read_lines, run_induce, tokenize
from afroadv.lexicons.store import lexicon_path, load_lexicon
from afroadv.resources import data_dir, sha256_file, shared_data_dir

PLANTED = {
    "maji": "water", "watoto": "children", "serikali": "government", "pesa": "money",
    "shule": "school", "rais": "president", "mji": "city", "kitabu": "book", "mbwa": "dog",
    "chakula": "food", "nyumba": "house", "gari": "car", "mti": "tree", "jua": "sun",
    "mwalimu": "teacher", "soko": "market",
}


def _synthetic_corpus(n: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    """X sentences of planted words; English adds articles X lacks and swaps neighbours."""
    rng = random.Random(seed)
    xs, es = [], []
    keys = sorted(PLANTED)
    for i in range(n):
        words = rng.sample(keys, rng.randint(2, 5))
        x = " ".join(words) + f" {1990 + i % 20}."
        eng = []
        for w in words:
            if rng.random() < 0.5:
                eng.append("the")
            eng.append(PLANTED[w])
        if len(eng) > 2 and rng.random() < 0.3:
            eng[0], eng[1] = eng[1], eng[0]
        # a name copied verbatim on both sides: must not become an entry
        if i % 7 == 0:
            x += " Nairobi"
            eng.append("Nairobi")
        xs.append(x)
        es.append(" ".join(eng).capitalize() + f" {1990 + i % 20}.")
    return xs, es


def test_induction_recovers_planted_pairs():
    xs, es = _synthetic_corpus()
    entries = induce_lexicon(xs, es)
    found = {(e.word, e.english) for e in entries}
    assert set(PLANTED.items()) <= found
    words = {e.word for e in entries}
    englishes = {e.english for e in entries}
    assert "nairobi" not in words  # identical strings (names) dropped
    assert "the" not in englishes  # English function words dropped as targets
    assert not any(ch.isdigit() for e in entries for ch in e.word + e.english)  # numbers dropped
    assert all(e.count >= 3 and e.share >= 0.7 and e.agreement >= 0.5 for e in entries)
    assert {e.pos for e in entries if e.english in ("water", "children", "school")} == {"noun"}


def test_induction_is_deterministic_and_sorted():
    xs, es = _synthetic_corpus(seed=1)
    a = induce_lexicon(xs, es)
    b = induce_lexicon(list(xs), list(es))
    assert a == b
    assert [e.word for e in a] == sorted(e.word for e in a)


def test_min_count_filters_rare_pairs():
    from afroadv.lexicons.induce import Thresholds

    xs, es = _synthetic_corpus(n=40, seed=2)
    loose = induce_lexicon(xs, es, th=Thresholds(min_count=1))
    strict = induce_lexicon(xs, es, th=Thresholds(min_count=10))
    assert len(strict) < len(loose)
    assert all(e.count >= 10 for e in strict)


def test_function_words_and_fragments_are_never_entries():
    """A word that links mostly to English function words (or to nothing) is grammar, not an entry."""
    from afroadv.lexicons.induce import align, learn_function_words

    rng = random.Random(3)
    xs, es = [], []
    for _ in range(300):
        w = rng.choice(sorted(PLANTED))
        xs.append(f"na {w} ya")  # "na" = "the" and "ya" = "of": function words of a made-up language
        es.append(f"the {PLANTED[w]} of")
    al = align(xs, es)
    assert {"na", "ya"} <= learn_function_words(al)
    assert not {"na", "ya"} & {e.word for e in induce_lexicon(xs, es)}


def test_tokenize_matches_project_tokenizer():
    assert tokenize("Ọmọdé NÁÀ, bw’Uburayi 2019!") == ["ọmọdé", "náà", "bw’uburayi", "2019"]


def test_run_induce_writes_atomically(tmp_path):
    xs, es = _synthetic_corpus()
    src, eng, out = tmp_path / "x.txt", tmp_path / "e.txt", tmp_path / "lex" / "xx-eng.tsv"
    src.write_text("\n".join(xs) + "\n", encoding="utf-8")
    eng.write_text("\n".join(es) + "\n", encoding="utf-8")
    n = run_induce(src, eng, out, min_count=3)
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == n > 0
    assert list(rows[0]) == ["word", "english", "weight", "origin", "pos"]
    assert ("maji", "water") in {(r["word"], r["english"]) for r in rows}
    assert [p.name for p in out.parent.iterdir()] == ["xx-eng.tsv"]  # no temp file left behind


def test_misaligned_bitext_is_a_user_error(tmp_path):
    src, eng = tmp_path / "x.txt", tmp_path / "e.txt"
    src.write_text("a b\nc d\n", encoding="utf-8")
    eng.write_text("a b\n", encoding="utf-8")
    with pytest.raises(AfroadvError, match="line-aligned"):
        run_induce(src, eng, tmp_path / "out.tsv")


def test_read_lines_keeps_alignment_on_unicode_separators(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("one\u2028still one\r\ntwo\n", encoding="utf-8")
    assert read_lines(p) == ["one\u2028still one", "two"]


def test_wold_and_hausa_cleaning():
    assert clean_wold_meaning("the world") == ["world"]
    assert clean_wold_meaning("to eat") == ["eat"]
    assert clean_wold_meaning("the woods or forest") == ["woods", "forest"]
    assert clean_wold_meaning("to burn(2)") == ["burn"]
    assert clean_wold_meaning("the autumn/fall") == ["autumn", "fall"]
    assert hausa_plain("rúwáa") == "ruwa"
    assert hausa_plain("dúuníyàa") == "duniya"
    assert hausa_plain("ƙásáa") == "ƙasa"  # hooked letters are letters, not marks
    assert single_token("nchi kavu") is None
    assert single_token("Maji") == "maji"


# --- shipped files (in the repo: no ../shared needed) ------------------------------------------


def _lexicon_codes() -> list[str]:
    return sorted(lang.lexicon for lang in registry().values() if lang.lexicon)


def test_every_lexicon_code_ships_a_file():
    missing = [c for c in _lexicon_codes() if not lexicon_path(c).exists()]
    assert not missing


@pytest.mark.parametrize(
    "code, word, english",
    [
        ("hau", "makaranta", "school"),
        ("hau", "kuɗi", "money"),
        ("hau", "shugaban", "president"),
        ("amh", "ፖሊስ", "police"),
        ("amh", "መንግስት", "government"),
        ("swa", "maji", "water"),
        ("kin", "abana", "children"),
        ("run", "amazi", "water"),
    ],
)
def test_shipped_lexicons_hold_known_pairs(code, word, english):
    lex = load_lexicon(code)
    assert english in lex.translations(word)
    assert word in lex.translate_english(english)
    assert lex.version.startswith(f"{code}-eng@")


def test_shipped_files_are_well_formed():
    for code in _lexicon_codes():
        text = lexicon_path(code).read_text(encoding="utf-8")
        rows = list(csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
        assert rows and list(rows[0]) == ["word", "english", "weight", "origin", "pos"], code
        for r in rows:
            assert r["word"] == r["word"].casefold() and r["english"] == r["english"].casefold(), r
            assert r["origin"] in {"ntrex-induced", "gatitos", "gatitos-related", "wold"}, r
            assert r["pos"] in {"noun", "noun-ambiguous", "rejected", "verb", "adj", "adv", "other"}, r
            assert not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", r["word"])) or code != "hau"
            assert float(r["weight"]) > 0
            assert r["word"] != r["english"]


def test_manifest_matches_files():
    folder = data_dir() / "lexicons"
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    listed = {f["file"]: f for f in manifest["files"]}
    assert sorted(listed) == sorted(f"{c}-eng.tsv" for c in _lexicon_codes())
    total = 0
    for name, f in listed.items():
        path = folder / name
        assert sha256_file(path) == f["sha256"], name
        n_rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
        assert n_rows == f["entries"], name
        assert f["licence"] == ("CC-BY-SA-4.0" if "ntrex-induced" in f["entries_by_origin"] else "CC-BY-4.0")
        assert all(s["licence"] and s["citation"] and s["url"] for s in f["sources"])
        total += path.stat().st_size
    assert total < 5_000_000  # keep the wheel small
    for code in ("afr", "amh", "hau", "kin"):
        assert 0 < listed[f"{code}-eng.tsv"]["coverage"]["type_coverage"] < 1


# --- reproducibility from the source data (needs ../shared/data) -------------------------------

needs_shared = pytest.mark.skipif(shared_data_dir() is None, reason="needs ../shared/data (source corpora)")


@needs_shared
@pytest.mark.shared
def test_ntrex_induction_reproduces_shipped_hausa_rows():
    rows = mark_rejected(ntrex_rows("hau", shared_data_dir()), read_review("hau"))
    text = lexicon_path("hau").read_text(encoding="utf-8")
    shipped = [
        (r["word"], r["english"], int(r["weight"]), r["origin"], r["pos"])
        for r in csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
        if r["origin"] == NTREX
    ]
    assert sorted(rows) == sorted(shipped)
    assert ("shugaban", "president") in {(w, e) for w, e, *_ in rows}


@needs_shared
@pytest.mark.shared
def test_curated_sources_parse():
    src = shared_data_dir() / "lexicon-sources"
    hau = {(w, e) for w, e, *_ in wold_rows(src / "wold" / "wold_hausa_meaning_form.tsv", "hau")}
    assert ("ruwa", "water") in hau and ("rúwáa", "water") not in hau  # running-text spelling only
    swa = wold_rows(src / "wold" / "wold_swahili_meaning_form.tsv", "swa")
    assert not any(w.startswith("-") for w, *_ in swa)
    assert ("dunia", "world") in {(w, e) for w, e, *_ in swa}
    rn = gatitos_rows(src / "gatitos" / "en_rn.tsv")
    assert len(rn) > 1000 and all(len(tokenize(w)) == 1 for w, *_ in rn)
