from hypothesis import given
from hypothesis import strategies as st

from afroadv.text import (ETHIOPIC, LATIN, ARABIC, PROTECTED, WORD, graphemes, looks_like_name, match_case, segment,
                          word_script, word_spans, words)


@given(st.text())
def test_segments_join_back_to_the_input(text):
    assert "".join(s.text for s in segment(text)) == text


@given(st.text())
def test_word_spans_locate_the_words(text):
    assert [text[a:b] for a, b in word_spans(text)] == words(text)


def test_protected_spans_and_words():
    segs = segment("Visit https://x.org/a?b=1 @user #Hausa ruwa 2019!")
    kinds = {s.text: s.kind for s in segs if s.kind != "other"}
    assert kinds["https://x.org/a?b=1"] == PROTECTED
    assert kinds["@user"] == PROTECTED and kinds["#Hausa"] == PROTECTED
    assert kinds["ruwa"] == WORD and kinds["2019"] == WORD


def test_apostrophe_words_and_tone_marks_stay_whole():
    assert [s.text for s in segment("ry’iyobokamana n’umurimo") if s.kind == WORD] == ["ry’iyobokamana", "n’umurimo"]
    assert [s.text for s in segment("wọ́n ṣe ìpàdé") if s.kind == WORD] == ["wọ́n", "ṣe", "ìpàdé"]


def test_names_are_capitalised_mid_sentence_words():
    segs = [s for s in segment("Gwamnan ya je Kaduna. Sai ya dawo NNPC") if s.kind == WORD]
    flags = {s.text: looks_like_name(s) for s in segs}
    assert flags == {"Gwamnan": False, "ya": False, "je": False, "Kaduna": True, "Sai": False, "dawo": False, "NNPC": True}


def test_graphemes_keep_marks_with_their_letter():
    assert graphemes("ọ̀ràn") == ["ọ̀", "r", "à", "n"]


def test_scripts_and_case():
    assert word_script("ልጆች") == ETHIOPIC and word_script("ماء") == ARABIC and word_script("ƙasa") == LATIN
    assert match_case("Ruwa", "water") == "Water" and match_case("RUWA", "water") == "WATER"
