"""afroadv attack on the tiny random XLM-R (fast; no textattack import in this file).

Covers the goal function (success / failure / away-from-gold), the budget and the words never
touched, the outputs' schema, resume after SIGKILL (byte-identical to an uninterrupted run), no
network access, and that importing afroadv or the attack command never imports textattack.
The TextAttack side (same outputs from TextAttack's own Attack, the measured TextAttack facts)
is in test_attack_textattack.py.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import json
import math
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from afroadv.errors import AfroadvError

pytest.importorskip("torch")
pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parents[1]
FILES = ("adversarial.jsonl", "adversarial.manifest.json", "log.jsonl", "summary.json")


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tiny(module_cache):
    """The tiny bi-encoder folder (built once) inside this module's private cache root."""
    from afroadv.models.tiny import build_tiny

    return build_tiny("xlmr", seed=0, dest=module_cache / "tiny-xlmr")


def encoder_for(folder: Path, cache_file: Path):
    from afroadv.models import EmbeddingCache, load_encoder

    return load_encoder(str(folder), cache=EmbeddingCache(cache_file))


def attack(folder, out, cache_file, **kw):
    """run_attack on one torch thread (tiny batches on a shared 2-core machine), restored afterwards."""
    import torch

    from afroadv.attack.runner import AttackConfig, run_attack

    resume = kw.pop("resume", False)
    cfg = AttackConfig(model=str(folder), lang=kw.pop("lang", "hau"), threads=1, **kw)
    threads = torch.get_num_threads()
    try:
        return run_attack(cfg, out, resume=resume, encoder=encoder_for(folder, cache_file))
    finally:
        torch.set_num_threads(threads)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@contextmanager
def network_blocked():
    """Any connection or DNS lookup to a non-loopback address is recorded and refused."""
    attempts: list = []
    real_connect, real_connect_ex, real_gai = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
    local = {"127.0.0.1", "::1", "localhost", "0.0.0.0"}

    def _is_local(address) -> bool:
        return not isinstance(address, tuple) or str(address[0]) in local

    def connect(self, address):
        if self.family == getattr(socket, "AF_UNIX", None) or _is_local(address):
            return real_connect(self, address)
        attempts.append(("connect", address))
        raise OSError("network disabled in this test")

    def connect_ex(self, address):
        if self.family == getattr(socket, "AF_UNIX", None) or _is_local(address):
            return real_connect_ex(self, address)
        attempts.append(("connect_ex", address))
        return 111

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and str(host) not in local:
            attempts.append(("getaddrinfo", host))
            raise socket.gaierror("network disabled in this test")
        return real_gai(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = real_connect, real_connect_ex, real_gai


# ---------------------------------------------------------------- the goal
def test_goal_objective_and_threshold():
    from afroadv.attack.core import DEFAULT_DELTA, Goal

    move = Goal("move", 0.1)
    assert move.objective(0.55, 0.7, None) == pytest.approx(0.15)
    assert move.objective(0.85, 0.7, 0.2) == pytest.approx(0.15)  # either direction
    assert move.done(0.15) and not move.done(0.05) and move.done(0.1)
    away = Goal("away-from-gold", 0.1)
    # gold 0.2: moving from 0.5 to 0.7 grows the error by 0.2; moving to 0.3 shrinks it
    assert away.objective(0.7, 0.5, 0.2) == pytest.approx(0.2)
    assert away.objective(0.3, 0.5, 0.2) == pytest.approx(-0.2)
    assert away.done(away.objective(0.65, 0.5, 0.2)) and not away.done(away.objective(0.55, 0.5, 0.2))
    assert DEFAULT_DELTA == 0.05 and Goal().kind == "move" and Goal().delta == DEFAULT_DELTA
    with pytest.raises(AfroadvError, match="needs gold"):
        away.objective(0.7, 0.5, None)
    with pytest.raises(AfroadvError, match="--goal"):
        Goal("up", 0.1)
    with pytest.raises(AfroadvError, match="--delta"):
        Goal("move", 0.0)


def test_goal_success_failure_and_away_from_gold_on_tiny_model(tiny, tmp_path):
    # δ tiny: every pair succeeds, and with the smallest change (greedy stops at the first success)
    ok = attack(tiny, tmp_path / "ok", tmp_path / "c.sqlite3", limit=3, delta=1e-6, candidates=1)
    assert ok.summary["success_rate"] == 1.0
    for r in ok.records:
        assert r["status"] == "succeeded" and len(r["changes"]) == 1
        assert abs(r["score_adv"] - r["score_orig"]) >= 1e-6 and r["deviation"] >= 1e-6
    # δ beyond reach (cosines move by < 0.5): every pair fails, after spending the whole word budget
    bad = attack(tiny, tmp_path / "bad", tmp_path / "c.sqlite3", limit=2, delta=0.5, candidates=1, budget=0.1)
    assert bad.summary["success_rate"] == 0.0 and bad.summary["n_failed"] == 2
    for r in bad.records:
        assert r["status"] == "failed" and 0 < r["deviation"] < 0.5
        # greedy kept the rewrites that improved the objective, never beyond the budget
        assert 1 <= len(r["changes"]) <= min(r["limit"], r["attackable"])
    # away from gold: the objective is the growth of |score − gold| (gold rescaled to 0–1)
    away = attack(tiny, tmp_path / "away", tmp_path / "c.sqlite3", limit=3, delta=1e-6, goal="away-from-gold",
                  candidates=1)
    log = {r["id"]: r for r in read_jsonl(tmp_path / "away" / "log.jsonl")}
    for r in away.records:
        gold = log[r["id"]]["gold"]
        growth = abs(r["score_adv"] - gold) - abs(r["score_orig"] - gold)
        assert r["deviation"] == pytest.approx(growth, abs=2e-6)
        assert (r["status"] == "succeeded") == (r["deviation"] >= 1e-6)
    assert away.summary["goal"] == "away-from-gold"


def test_budget_protected_words_and_sides(tiny, tmp_path):
    from afroadv.attack.core import levenshtein
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language
    from afroadv.text import split_tokens

    lang = get_language("hau")
    stop = lang.stopword_set()
    run = attack(tiny, tmp_path / "b", tmp_path / "c.sqlite3", limit=6, delta=0.9, budget=0.1, candidates=1)
    pairs = load_dataset(lang).pairs[:6]
    for pair, r in zip(pairs, run.records):
        assert r["limit"] == math.floor(0.1 * r["n_words"] + 1e-9)
        assert len(r["changes"]) <= r["limit"] and len(r["changes"]) / r["n_words"] <= 0.1
        assert len({(c["side"], c["index"]) for c in r["changes"]}) == len(r["changes"])  # no word twice
        for c in r["changes"]:
            old = c["old"]
            assert old.casefold() not in stop
            assert not any(ch.isdigit() for ch in old)
            # a capitalised word is touched only at the start of a sentence (names are protected)
            if old[:1].isupper():
                parts = split_tokens(pair.sentence1 if c["side"] == 1 else pair.sentence2)
                words = [parts[i] for i in range(1, len(parts), 2)]
                k = c["index"]
                gap = parts[2 * k] if k < len(words) else ""
                assert k == 0 or any(ch in ".!?:\n" for ch in gap), (old, pair.id)
    assert sum(len(r["changes"]) for r in run.records) > 0
    # second side only, and at most 3 character edits in all
    run = attack(tiny, tmp_path / "s", tmp_path / "c.sqlite3", limit=4, delta=0.9, sides="second",
                 max_edit_distance=3, candidates=1)
    for pair, r in zip(pairs, run.records):
        assert r["sentence1"] == pair.sentence1
        assert all(c["side"] == 2 for c in r["changes"])
        assert levenshtein(pair.sentence1 + "\n" + pair.sentence2, r["sentence1"] + "\n" + r["sentence2"]) <= 3
    assert any(r["changes"] for r in run.records)


def test_outputs_schema_ranking_and_manifest(tiny, tmp_path):
    from afroadv.generate import COLUMNS
    from afroadv.resources import sha256_file

    out = tmp_path / "o"
    run = attack(tiny, out, tmp_path / "c.sqlite3", limit=6, delta=0.02, candidates=1, budget=0.1)
    adv = read_jsonl(out / "adversarial.jsonl")
    assert [list(r) for r in adv] == [COLUMNS] * 6
    assert {r["recipe"] for r in adv} == {"attack-charnoise"} and {r["task"] for r in adv} == {"sts"}
    assert all(r["id"] == f"{r['source_id']}/attack-charnoise/0" for r in adv)
    assert any(r["changed"] for r in adv)
    for r in adv:
        assert r["changed"] == (r["sentence1"] != r["orig_sentence1"] or r["sentence2"] != r["orig_sentence2"])
    manifest = json.loads((out / "adversarial.manifest.json").read_text())
    assert manifest["columns"] == COLUMNS and manifest["kind"] == "attack-set"
    assert manifest["output"]["sha256"] == sha256_file(out / "adversarial.jsonl")
    assert manifest["recipe"]["name"] == "attack-charnoise" and manifest["attack"]["goal"] == "move"
    log = read_jsonl(out / "log.jsonl")
    assert [r["rank"] for r in log] == list(range(1, 7))
    assert [r["deviation"] for r in log] == sorted((r["deviation"] for r in log), reverse=True)
    for key in ("queries", "score_orig", "score_adv", "changes", "orig_sentence1", "sentence1", "words_changed"):
        assert key in log[0]
    summary = json.loads((out / "summary.json").read_text())
    for key in ("success_rate", "mean_queries", "mean_perturbed_share", "spearman_clean", "spearman_attacked",
                "drop", "drop_ci", "n"):
        assert key in summary, key
    assert summary["n"] == 6 and summary == run.summary
    assert summary["drop"] == pytest.approx(summary["spearman_clean"] - summary["spearman_attacked"], abs=1e-3)
    assert summary["drop_ci"][0] <= summary["drop"] <= summary["drop_ci"][1]
    assert summary["mean_queries"] == pytest.approx(sum(r["queries"] for r in log) / 6, abs=1e-3)


def test_second_run_is_served_by_the_cache(tiny, tmp_path):
    """Embeddings persist across runs: the same attack again encodes nothing and writes the same bytes."""
    first = attack(tiny, tmp_path / "a", tmp_path / "c.sqlite3", limit=3, delta=0.05, candidates=1)
    again = attack(tiny, tmp_path / "b", tmp_path / "c.sqlite3", limit=3, delta=0.05, candidates=1)
    assert first.timing["texts_encoded"] > 0 and again.timing["texts_encoded"] == 0
    # within one run the untouched side is never re-encoded: about one text per pair query
    assert first.timing["texts_encoded"] <= 0.55 * first.timing["texts_requested"]
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_resume_after_sigkill_is_byte_identical(tiny, tmp_path):
    n = 5
    opts = dict(limit=n, delta=0.5, candidates=1, checkpoint_every=1, budget=0.1)
    # (1) uninterrupted, with its own embedding cache
    attack(tiny, tmp_path / "full", tmp_path / "full.sqlite3", **opts)
    # (2) the real command in a subprocess, with another cache, SIGKILLed after the first checkpoint
    out = tmp_path / "killed"
    env = {**os.environ, "AFROADV_CACHE": str(tmp_path / "killed-cache"), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "afroadv.cli", "attack", "--model", str(tiny), "--lang", "hau", "--out", str(out),
           "--limit", str(n), "--delta", "0.5", "--candidates", "1", "--checkpoint-every", "1", "--budget", "0.1",
           "--threads", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ckpt = out / "checkpoint.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists() and ckpt.read_bytes().count(b"\n") >= 2:  # header + one finished pair
            break
        time.sleep(0.01)
    assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = ckpt.read_bytes().count(b"\n") - 1
    assert 1 <= done < n
    assert not (out / "summary.json").exists()
    # (3) resume with the killed run's cache (as a user would: same machine, same cache)
    resumed = attack(tiny, out, tmp_path / "killed-cache" / "embeddings" / "embeddings.sqlite3", resume=True, **opts)
    assert resumed.resumed_from == done
    for name in FILES:
        assert (out / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name
    # a checkpoint made with other settings is refused
    with pytest.raises(AfroadvError, match="different settings"):
        attack(tiny, out, tmp_path / "full.sqlite3", resume=True, **{**opts, "delta": 0.4})


def test_torn_checkpoint_line_is_dropped(tiny, tmp_path):
    opts = dict(limit=3, delta=0.05, candidates=1, checkpoint_every=1, budget=0.1)
    attack(tiny, tmp_path / "full", tmp_path / "c.sqlite3", **opts)
    out = tmp_path / "torn"
    attack(tiny, out, tmp_path / "c.sqlite3", **opts)
    ckpt = out / "checkpoint.jsonl"
    lines = ckpt.read_bytes().splitlines(keepends=True)
    ckpt.write_bytes(b"".join(lines[:2]) + lines[2][:25])  # one record, then half a line
    for name in FILES:
        (out / name).unlink()
    resumed = attack(tiny, out, tmp_path / "c.sqlite3", resume=True, **opts)
    assert resumed.resumed_from == 1
    for name in FILES:
        assert (out / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name


# ---------------------------------------------------------------- every script: afroadv's own words
# Test sentences written for these tests (not evaluation text). In NFC, Yoruba ẹ̀ ọ́ … stay a letter
# with a dot below plus a combining tone mark (there is no precomposed form); Darija with harakat.
YORUBA = ("Ọmọ náà fẹ́ràn ẹ̀kọ́ rẹ̀ gan-an, ó sì ń kà ìwé-mímọ́ lójoojúmọ́.", "Àwọn akẹ́kọ̀ọ́ ń ṣe ìdánwò ní ilé-ìwé.")
DARIJA = ("مْشِيت لِلسُّوق وْشْرِيت الخُبْز والحْلِيب.", "كَنْقْرَا فالمَدْرَسَة كُلّ نْهَار.")


def _marked(word: str) -> bool:
    """The word carries a combining mark (a tone mark on an under-dotted vowel, Arabic harakat)."""
    import unicodedata

    return any(unicodedata.combining(c) for c in word)


@pytest.mark.parametrize("recipe,lang,cols", [
    ("charnoise", "yor", YORUBA), ("diacritics", "yor", YORUBA), ("lexsub", "yor", YORUBA),
    ("charnoise", "ary", DARIJA), ("diacritics", "ary", DARIJA), ("keyboard", "ary", DARIJA),
])
def test_words_with_marks_and_compound_parts_are_attacked_in_place(recipe, lang, cols):
    """afroadv's tokeniser (the one `generate` uses) makes words with combining marks and each part
    of a hyphenated compound attackable; replacing word k changes exactly its characters."""
    from afroadv.attack.core import AttackSpace
    from afroadv.text import nfc, words

    cols = tuple(nfc(c) for c in cols)
    assert _marked(cols[0]) and _marked(cols[1])  # NFC keeps these marks combining
    space = AttackSpace.build(recipe, lang, seed=0)
    a = space.analyse(cols)
    eligible = [a.words[k] for k in sorted(a.eligible)]
    assert sum(map(_marked, eligible)) >= 2, eligible
    if lang == "yor":
        assert {"ìwé", "mímọ́"} & set(eligible)  # parts of ìwé-mímọ́ / ilé-ìwé
    for k in a.eligible:
        c, start, end = a.spans[k]
        for new in space.rewrites(a.words[k]):
            out = space.replace_word(cols, k, new)
            assert out[1 - c] == cols[1 - c]
            assert out[c] == cols[c][:start] + new + cols[c][end:]
            assert out[c] == nfc(out[c])
            assert len(words(out[c])) == len(words(cols[c]))
            assert space.analyse(out).words[k] == new  # the other words keep their indices
        deleted = space.delete_word(cols, k)  # the word and at most one space beside it
        assert deleted[1 - c] == cols[1 - c]
        assert deleted[c] in {cols[c][:start] + cols[c][end:], cols[c][:start - 1] + cols[c][end:],
                              cols[c][:start] + cols[c][end + 1:]}


def test_attack_rewrites_yoruba_words_carrying_tone_marks(tiny, tmp_path):
    """End to end (a --dataset file of Yoruba pairs): the rewrites the attack keeps include words
    whose NFC form carries a combining tone mark — the words TextAttack's splitter breaks apart."""
    data = tmp_path / "yor.jsonl"
    rows = [YORUBA, ("Ọlọ́run ló ń ṣọ́ ìlú wa, ẹ̀rù kò bà wá.", "Ẹ̀gbọ́n mi ń kọ́ èdè Gẹ̀ẹ́sì.")]
    data.write_text("".join(json.dumps({"sentence1": a, "sentence2": b}, ensure_ascii=False) + "\n" for a, b in rows),
                    encoding="utf-8")
    run = attack(tiny, tmp_path / "y", tmp_path / "c.sqlite3", lang="yor", dataset=str(data), delta=0.9,
                 budget=0.2, candidates=1, max_queries=300)
    changed = [c["old"] for r in run.records for c in r["changes"]]
    assert sum(map(_marked, changed)) >= 2, changed
    assert run.summary["attack"]["words"] == "afroadv"


def test_no_network_access_during_an_attack(tiny, tmp_path):
    with network_blocked() as attempts:
        run = attack(tiny, tmp_path / "n", tmp_path / "c.sqlite3", limit=2, delta=0.05, candidates=1, budget=0.1)
    assert run.summary["n"] == 2
    assert attempts == []


def test_imports_stay_light():
    code = ("import sys, afroadv, afroadv.cli, afroadv.attack, afroadv.attack.command, afroadv.attack.runner, "
            "afroadv.attack.search, afroadv.attack.core, afroadv.attack.wrapper; "
            "print(sorted(m for m in ('textattack', 'torch', 'transformers', 'flair', 'nltk') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_rejects_bad_options_in_one_line(tmp_path):
    from conftest import run_cli

    r = run_cli("attack", "--model", "tiny-xlmr", "--lang", "hau", "--out", tmp_path, "--goal", "sideways")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "--goal" in r.stderr
    r = run_cli("attack", "--model", "tiny-xlmr", "--lang", "hau", "--out", tmp_path, "--budget", "1.5")
    assert r.returncode == 2 and "--budget" in r.stderr


@pytest.mark.integration
def test_e5_attack_then_evaluate_the_set(tmp_path, e5_small):
    """The done-when command on 5 pairs with the real e5-small, and `afroadv evaluate` on its output."""
    from conftest import link_e5, run_cli

    env = {"AFROADV_CACHE": str(tmp_path / "cache")}
    link_e5(e5_small, tmp_path / "cache")
    out = tmp_path / "out"
    r = run_cli("attack", "--model", "e5-small", "--lang", "hau", "--recipe", "charnoise", "--limit", "5",
                "--max-queries", "100", "--out", out, "--threads", "1", env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 5 and summary["spearman_clean"] is not None and 0 <= summary["success_rate"] <= 1
    assert "success rate" in r.stdout and "model forward" in r.stdout
    r = run_cli("evaluate", "--model", "e5-small", "--sets", out / "adversarial.jsonl", "--out", tmp_path / "eval.json",
                env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "attack-charnoise" in r.stdout


def test_rewrites_never_spell_another_word_where_the_recipe_avoids_them():
    """generate redraws a typo that spells a known word (amsa → masa); the attack skips it."""
    from afroadv.attack.core import AttackSpace

    space = AttackSpace.build("charnoise", "hau", seed=0, candidates=50)
    common = space.perturber.words.common
    words = ["amsa", "tsare", "biya", "gida", "ruwa", "kasuwa", "makaranta"]
    found = {w: space.rewrites(w) for w in words}
    assert all(found.values())
    assert not any(new.casefold() in common for rewrites in found.values() for new in rewrites)
    from afroadv.perturb.recipe import derived_rng

    raw = {n for w in words for t, _ in space.perturber.transformations if t.applies(w)
           for n in t.candidates(w, derived_rng(0, "charnoise", "hau", "attack", w), 50) if n != w}
    assert {"masa", "tare", "iya"} <= {n for n in raw if n.casefold() in common}  # what the rule keeps out
    allowed = AttackSpace.build("keyboard", "hau", seed=0, candidates=50)
    assert allowed.recipe.avoid_real_words  # (both typo recipes avoid real words)
