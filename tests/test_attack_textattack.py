"""The TextAttack side of `afroadv attack`, and the facts measured about textattack 0.3.11.

Each fact the design works around is shown here on the installed textattack:
- first import calls `nltk.download` for six resources and writes its marker even when they fail;
  `textattack.augmentation.recipes` builds `StopwordModification()` at import, which needs NLTK's
  English stop words; `ta_env.import_textattack` stages both, so a fresh import with the network
  off attempts no connection and no download;
- `TA_CACHE_DIR` overwrites HF_HOME / XDG_CACHE_HOME process-wide (ta_env restores them);
- `Attack.attack` rejects a float gold score (afroadv passes it as an exact `str`);
- `WordSwapHomoglyphSwap()` fails on a data file missing from the wheel;
- the WIR `unk` strategy inserts BERT's "[UNK]", which an XLM-R tokeniser does not map to `<unk>`
  (afroadv ranks words by deletion);
- `AttackArgs(parallel=True)` refuses to run without a GPU.
And the point of it all: TextAttack's own `Attack` with afroadv's components returns exactly what
afroadv's engine returns on TextAttack's words (`words="textattack"`; greedy and beam, query budget
and edit-distance constraint included), and what afroadv's engine returns on its own words for
every pair where the two tokenisations agree.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import importlib
import importlib.util
import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
if importlib.util.find_spec("textattack") is None:  # (not importorskip: a plain import is what crashes offline)
    pytest.skip("textattack is not installed (optional extra: pip install \"afroadv[textattack]\")", allow_module_level=True)

from test_attack import FILES, YORUBA, _marked, attack, encoder_for, network_blocked

from afroadv.attack.ta_env import import_textattack

textattack = import_textattack()

from afroadv.attack.core import AttackSpace
from afroadv.attack.goal import gold_label, parse_gold
from afroadv.attack.ta_wrapper import PairModelWrapper, attacked_text, build_attack, pairs_dataset
from afroadv.attack.wrapper import PairScorer


@pytest.fixture(scope="module")
def tiny(module_cache):
    from afroadv.models.tiny import build_tiny

    return build_tiny("xlmr", seed=0, dest=module_cache / "tiny-xlmr")


def _sentences():
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    out = []
    for code in ("hau", "amh", "kin", "afr"):
        out += [(p.sentence1, p.sentence2) for p in load_dataset(get_language(code)).pairs[:150]]
    return out


# ---------------------------------------------------------------- TextAttack's words, afroadv's edits
def test_textattack_words_and_edits_match_textattack():
    """With words="textattack" the space indexes `AttackedText.words` and its replace / delete give
    the texts TextAttack's own `replace_word_at_index` / `delete_word_at_index` give."""
    space = AttackSpace.build("charnoise", "hau", seed=0, words="textattack")
    checked = 0
    for s1, s2 in _sentences()[:60]:
        at = attacked_text(s1, s2)
        cols = (s1, s2)
        a = space.analyse(cols)
        assert a.words == tuple(at.words)
        for k in sorted(a.eligible)[:4]:
            new = space.rewrites(a.words[k])[0]
            assert space.replace_word(cols, k, new) == tuple(at.replace_word_at_index(k, new)._text_input.values())
            assert space.delete_word(cols, k) == tuple(at.delete_word_at_index(k)._text_input.values())
            checked += 1
        for k in (0, a.n_words - 1):  # first and last word: TextAttack's space rules differ there
            if a.spans[k] is not None:
                assert space.delete_word(cols, k) == tuple(at.delete_word_at_index(k)._text_input.values())
    assert checked > 50


def test_textattack_words_leave_marked_and_hyphenated_words_alone():
    """TextAttack's `\\w` splits ẹ̀kọ́ at its combining marks and keeps gan-an whole, so on its words
    those are not attackable; on afroadv's own words they are (the default engine's)."""
    from textattack.shared.utils import words_from_text

    from afroadv.text import nfc

    cols = tuple(nfc(c) for c in YORUBA)
    assert "ẹ̀kọ́" not in words_from_text(cols[0]) and "gan-an" in words_from_text(cols[0])
    ta = AttackSpace.build("charnoise", "yor", seed=0, words="textattack")
    own = AttackSpace.build("charnoise", "yor", seed=0)
    ta_words = [ta.analyse(cols).words[k] for k in ta.analyse(cols).eligible]
    own_words = [own.analyse(cols).words[k] for k in own.analyse(cols).eligible]
    assert not any(map(_marked, ta_words)) and "-" not in "".join(ta_words)
    assert {"ẹ̀kọ́", "ìwé", "mímọ́"} <= set(own_words)
    assert set(ta_words) < set(own_words)


# ---------------------------------------------------------------- the measured TextAttack facts
def test_float_gold_score_is_rejected_by_plain_textattack(tiny, tmp_path):
    space = AttackSpace.build("charnoise", "hau", seed=0, candidates=1, budget=0.1, words="textattack")
    wrapper = PairModelWrapper(PairScorer(encoder_for(tiny, tmp_path / "c.sqlite3")))
    atk = build_attack(space, wrapper, goal="away-from-gold", delta=1e-6)
    s1, s2 = _sentences()[0]
    with pytest.raises(AssertionError, match="`str` or `int`"):
        atk.attack(attacked_text(s1, s2), 0.2)  # a float STS score
    result = atk.attack(attacked_text(s1, s2), gold_label(0.2))
    assert isinstance(result, textattack.attack_results.SuccessfulAttackResult)
    assert atk.goal_function.gold == 0.2
    # the label is exact: repr(float) round-trips
    for x in (0.2, 0.1 + 0.2, 1 / 3, 0.0, 1.0, 4.8):
        assert parse_gold(gold_label(x)) == x
    assert gold_label(None) == "" and parse_gold("") is None


def test_homoglyph_swap_misses_its_data_file():
    from textattack.transformations import WordSwapHomoglyphSwap

    with pytest.raises(FileNotFoundError, match="intentional_homoglyphs"):
        WordSwapHomoglyphSwap()


def test_wir_unk_inserts_bert_unk_which_xlmr_does_not_know(tiny):
    from textattack.search_methods import GreedyWordSwapWIR
    from transformers import AutoTokenizer

    from afroadv.attack.ta_wrapper import search_method

    assert GreedyWordSwapWIR().unk_token == "[UNK]"
    tok = AutoTokenizer.from_pretrained(str(tiny))
    assert tok.unk_token == "<unk>"
    assert tok("<unk>", add_special_tokens=False)["input_ids"] == [tok.unk_token_id]
    pieces = tok("[UNK]", add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in pieces and len(pieces) > 1  # ordinary sub-words, not the unknown token
    assert search_method("greedy").wir_method == "delete"


def test_parallel_attack_refuses_without_gpu(tiny, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    space = AttackSpace.build("charnoise", "hau", candidates=1, words="textattack")
    atk = build_attack(space, PairModelWrapper(PairScorer(encoder_for(tiny, tmp_path / "c.sqlite3"))))
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    ds = pairs_dataset(load_dataset(get_language("hau")).pairs[:2])
    args = textattack.AttackArgs(num_examples=2, parallel=True, silent=True, disable_stdout=True)
    with pytest.raises(Exception, match="no GPU"):
        textattack.Attacker(atk, ds, args).attack_dataset()


def test_stop_words_are_needed_at_import(monkeypatch, tmp_path):
    """`textattack.augmentation.recipes` builds StopwordModification() at import: without NLTK's English
    stop words on the path it raises; ta_env stages them (stopwords-iso English list)."""
    import nltk
    from nltk.corpus.reader import StopwordsCorpusReader
    from nltk.corpus.util import LazyCorpusLoader
    from textattack.augmentation import recipes

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setattr(nltk.corpus, "stopwords",
                        LazyCorpusLoader("stopwords", StopwordsCorpusReader, r"(?!README|\.).*", encoding="utf8"))
    with pytest.raises(LookupError):
        importlib.reload(recipes)
    monkeypatch.undo()
    importlib.reload(recipes)  # with afroadv's staged stop words it imports
    assert len(recipes.DEFAULT_CONSTRAINTS[1].stopwords) > 100


def test_fresh_offline_import_downloads_nothing_and_keeps_cache_variables(tmp_path):
    """In a fresh process with the network blocked: afroadv's import of textattack attempts no
    connection and no download and leaves HF_HOME alone; textattack's own install module, re-run,
    shows what it does without afroadv (TA_CACHE_DIR overwrites HF_HOME; no marker → six nltk.download
    calls, then the marker is written although every download failed)."""
    code = r"""
import importlib, json, os, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if len(args) > 1 else args)[:80])
    raise OSError("network disabled")
socket.socket.connect = lambda self, address: refuse(self, address)
socket.getaddrinfo = lambda *a, **k: refuse(None, *a)
ta_cache, hf_home = sys.argv[1], sys.argv[2]
os.environ.update(TA_CACHE_DIR=ta_cache, HF_HOME=hf_home, XDG_CACHE_HOME=hf_home + "-xdg")
import nltk
try:
    nltk.data.find("corpora/stopwords/english")
    before = "found"
except LookupError:
    before = "missing"
from afroadv.attack.ta_env import import_textattack
ta = import_textattack()
res = {"stopwords_before": before, "hf_home": os.environ["HF_HOME"], "xdg": os.environ["XDG_CACHE_HOME"],
       "marker": os.path.exists(os.path.join(ta_cache, "post_install_check_3")), "attempts_import": list(attempts)}
import textattack.shared.utils.install as install
importlib.reload(install)  # what a plain `import textattack` runs with TA_CACHE_DIR set
res["hf_home_plain"] = os.environ["HF_HOME"]
calls = []
nltk.download = lambda *a, **k: (calls.append(a[0] if a else str(k)), False)[1]
fresh = ta_cache + "-fresh"
os.environ["TA_CACHE_DIR"] = fresh
importlib.reload(install)
res["downloads"] = calls
res["fresh_marker"] = os.path.exists(os.path.join(fresh, "post_install_check_3"))
print("RESULT " + json.dumps(res))
"""
    env = {**os.environ, "AFROADV_CACHE": str(tmp_path / "afroadv"), "NLTK_DATA": str(tmp_path / "no-nltk")}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ta"), str(tmp_path / "hf")],
                         capture_output=True, text=True, env=env, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.split("RESULT ", 1)[1])
    assert res["stopwords_before"] == "missing"  # nothing on this machine provides them but ta_env
    assert res["attempts_import"] == []
    assert res["marker"] is True
    assert res["hf_home"] == str(tmp_path / "hf") and res["xdg"] == str(tmp_path / "hf") + "-xdg"
    assert res["hf_home_plain"] == str(tmp_path / "ta")  # TextAttack's own behaviour
    assert sorted(res["downloads"]) == sorted(
        ["averaged_perceptron_tagger", "stopwords", "omw", "universal_tagset", "wordnet", "punkt"])
    assert res["fresh_marker"] is True


# ---------------------------------------------------------------- same outputs from both engines
@pytest.mark.parametrize("opts", [
    dict(limit=4, delta=0.02, candidates=1, budget=0.15, max_edit_distance=4),
    dict(limit=2, delta=0.03, candidates=1, budget=0.1, search="beam", beam_width=2, max_queries=120),
    dict(limit=2, delta=0.03, candidates=1, budget=0.1, search="beam", beam_width=2, max_queries=1),
], ids=["greedy", "beam", "beam-spent-by-original"])
def test_textattack_engine_gives_the_same_outputs_offline(tiny, tmp_path, opts):
    ours = attack(tiny, tmp_path / "afroadv", tmp_path / "a.sqlite3", words="textattack", **opts)
    with network_blocked() as attempts:
        theirs = attack(tiny, tmp_path / "textattack", tmp_path / "b.sqlite3", engine="textattack", **opts)
    assert attempts == []
    for name in FILES:
        assert (tmp_path / "afroadv" / name).read_bytes() == (tmp_path / "textattack" / name).read_bytes(), name
    assert [r["queries"] for r in ours.records] == [r["queries"] for r in theirs.records]
    assert ours.timing["texts_encoded"] == theirs.timing["texts_encoded"]
    if opts.get("max_queries"):
        assert max(r["queries"] for r in ours.records) == opts["max_queries"]  # the budget was hit


def test_plain_textattack_attacker_with_afroadv_recipe(tiny, tmp_path):
    """The documented plain-TextAttack usage: Attacker over a pair dataset."""
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    pairs = load_dataset(get_language("hau")).pairs[:2]
    space = AttackSpace.build("charnoise", "hau", seed=0, candidates=1, budget=0.1, words="textattack")
    wrapper = PairModelWrapper(PairScorer(encoder_for(tiny, tmp_path / "c.sqlite3")))
    atk = build_attack(space, wrapper, goal="move", delta=0.02)
    args = textattack.AttackArgs(num_examples=2, silent=True, disable_stdout=True, random_seed=0)
    results = textattack.Attacker(atk, pairs_dataset(pairs), args).attack_dataset()
    ours = attack(tiny, tmp_path / "ours", tmp_path / "d.sqlite3", limit=2, delta=0.02, candidates=1, budget=0.1,
                  words="textattack")
    assert len(results) == 2
    for res, rec in zip(results, ours.records):
        cols = tuple(res.perturbed_result.attacked_text._text_input.values())
        assert cols == (rec["sentence1"], rec["sentence2"])
        assert res.perturbed_result.num_queries == rec["queries"]
        assert isinstance(res, textattack.attack_results.SuccessfulAttackResult) == (rec["status"] == "succeeded")


def test_engines_agree_wherever_the_tokenisations_agree(tiny, tmp_path):
    """Equal footing between afroadv's own words and TextAttack's engine: on every pair where both
    index the same words at the same places with the same rewrites, the outputs are identical
    (texts, success, queries); elsewhere afroadv's words offer at least as many attackable words."""
    from afroadv.attack.core import tokenisations_agree
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    opts = dict(limit=8, delta=0.02, candidates=1, budget=0.15)
    pairs = load_dataset(get_language("hau")).pairs
    ours = attack(tiny, tmp_path / "afroadv", tmp_path / "a.sqlite3", **opts)
    theirs = attack(tiny, tmp_path / "textattack", tmp_path / "b.sqlite3", engine="textattack", **opts)
    own = AttackSpace.build("charnoise", "hau", seed=0, candidates=1, budget=0.15)
    ta = AttackSpace.build("charnoise", "hau", seed=0, candidates=1, budget=0.15, words="textattack")
    same = 0
    for a, b in zip(ours.records, theirs.records):
        cols = (pairs[a["i"]].sentence1, pairs[a["i"]].sentence2)
        assert a["attackable"] >= b["attackable"]
        if tokenisations_agree(own, ta, cols):
            same += 1
            assert {k: a[k] for k in ("sentence1", "sentence2", "status", "queries", "changes")} == \
                   {k: b[k] for k in ("sentence1", "sentence2", "status", "queries", "changes")}
    assert same >= 3
