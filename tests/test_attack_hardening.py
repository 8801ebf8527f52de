"""`afroadv attack` on bad input: every bad option, output folder and over-long sentence is one
`afroadv: error: …` line with exit code 2, said before the model loads, with nothing written; the
search's memory is bounded by the queries it can still make, not by candidates × text length; and
the textattack engine never touches the network, even with a fresh TextAttack cache.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from conftest import run_cli, run_cli_here

from afroadv.errors import AfroadvError

NO_MODEL = "no-such-model-anywhere"  # options and folders are checked before the model is looked up
HAS_TEXTATTACK = importlib.util.find_spec("textattack") is not None


def one_line_error(r) -> str:
    """The single stderr line of a failed CLI run (exit code 2), without its prefix."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("afroadv: error: "), r.stderr[-2000:]
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def tiny(module_cache):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from afroadv.models.tiny import build_tiny

    return build_tiny("xlmr", seed=0, dest=module_cache / "tiny-xlmr")


def pairs_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "sentence1": a, "sentence2": b, "score": 0.5}, ensure_ascii=False) + "\n"
                            for i, a, b in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------- options
BAD_OPTIONS = [
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**63)], "--seed"),
    (["--seed", "abc"], "--seed"),
    (["--limit", "0"], "--limit"),
    (["--limit", "-1"], "--limit"),
    (["--max-queries", "0"], "--max-queries"),
    (["--max-queries", "-5"], "--max-queries"),
    (["--budget", "0"], "--budget"),
    (["--budget", "1.5"], "--budget"),
    (["--budget", "nan"], "--budget"),
    (["--delta", "0"], "--delta"),
    (["--delta", "-0.1"], "--delta"),
    (["--delta", "1.5"], "--delta"),
    (["--delta", "nan"], "--delta"),
    (["--delta", "inf"], "--delta"),
    (["--beam-width", "0"], "--beam-width"),
    (["--beam-width", "101"], "--beam-width"),
    (["--candidates", "0"], "--candidates"),
    (["--candidates", "1000000"], "--candidates"),
    (["--batch-size", "0"], "--batch-size"),
    (["--threads", "0"], "--threads"),
    (["--checkpoint-every", "0"], "--checkpoint-every"),
    (["--max-edit-distance", "0"], "--max-edit-distance"),
    (["--max-chars", "0"], "--max-chars"),
    (["--max-tokens", "0"], "--max-tokens"),
    (["--device", "tpu"], "--device"),
    (["--device", "cuda:x"], "--device"),
    (["--sides", "left"], "--sides"),
    (["--engine", "fast"], "--engine"),
    (["--words", "spaces"], "--words"),
    (["--words", "afroadv", "--engine", "textattack"], "--words afroadv"),
    (["--search", "random"], "--search"),
]


def test_cli_rejects_every_bad_option_in_one_line_before_any_work(tmp_path):
    """Each bad value: exit 2, one line naming the option, checked before the model is looked up
    (the model does not exist), and no output folder made."""
    env = {"AFROADV_CACHE": str(tmp_path / "cache")}
    for n, (args, name) in enumerate(BAD_OPTIONS):
        out = tmp_path / f"out{n}"
        r = run_cli_here("attack", "--model", NO_MODEL, "--lang", "hau", "--out", out, *args, env=env)
        line = one_line_error(r)
        assert name in line, (args, line)
        assert "Traceback" not in r.stderr
        assert not out.exists(), args
    assert not (tmp_path / "cache").exists() or files_under(tmp_path / "cache") == []


@pytest.mark.parametrize("kw, name", [
    (dict(seed=-1), "--seed"), (dict(seed=2**63), "--seed"), (dict(limit=0), "--limit"),
    (dict(max_queries=0), "--max-queries"), (dict(budget=float("nan")), "--budget"),
    (dict(delta=float("inf")), "--delta"), (dict(delta=2.0), "--delta"), (dict(beam_width=0), "--beam-width"),
    (dict(candidates=0), "--candidates"), (dict(batch_size=0), "--batch-size"), (dict(device="gpu"), "--device"),
    (dict(max_chars=0), "--max-chars"), (dict(max_tokens=-3), "--max-tokens"), (dict(limit=1.5), "--limit"),
    (dict(goal="up"), "--goal"), (dict(model=""), "--model"), (dict(words=""), "--words"),
])
def test_python_api_gets_the_same_checks(tmp_path, kw, name):
    from afroadv.attack.runner import AttackConfig, run_attack

    out = tmp_path / "out"
    with pytest.raises(AfroadvError, match=name):
        run_attack(AttackConfig(**{"model": NO_MODEL, "lang": "hau", **kw}), out)
    assert not out.exists()


def test_checked_config_normalises_numbers():
    from afroadv.attack.runner import AttackConfig

    cfg = AttackConfig(model="m", lang="hau", seed=3.0, candidates=2.0, delta=1, budget="0.5").checked()
    assert (cfg.seed, cfg.candidates, cfg.delta, cfg.budget) == (3, 2, 1.0, 0.5)
    assert type(cfg.seed) is int and type(cfg.delta) is float


def test_attack_space_and_goal_check_their_own_inputs():
    from afroadv.attack.core import AttackSpace, Goal

    for kw, name in ((dict(candidates=0), "--candidates"), (dict(candidates=101), "--candidates"),
                     (dict(budget=float("nan")), "--budget"), (dict(seed=-1), "--seed"),
                     (dict(max_edit_distance=0), "--max-edit-distance"), (dict(words="regex"), "--words")):
        with pytest.raises(AfroadvError, match=name):
            AttackSpace.build("charnoise", "hau", **kw)
    for delta in (0.0, float("nan"), float("inf"), 1.01, -1):
        with pytest.raises(AfroadvError, match="--delta"):
            Goal("move", delta)
    assert Goal("move", 1).delta == 1.0


# ---------------------------------------------------------------- the output folder
def test_out_that_is_a_file_fails_before_the_model_loads(tmp_path, monkeypatch):
    out = tmp_path / "results"
    out.write_text("keep me\n")
    r = run_cli("attack", "--model", NO_MODEL, "--lang", "hau", "--out", out, env={"AFROADV_CACHE": str(tmp_path / "c")})
    line = one_line_error(r)
    assert str(out) in line and "is a file" in line
    assert out.read_text() == "keep me\n" and files_under(tmp_path) == ["results"]

    # in-process: the model is never resolved nor loaded
    import afroadv.models as models
    from afroadv.attack.runner import AttackConfig, run_attack

    def no_model(*a, **k):
        raise AssertionError("the model was looked up before the output folder was checked")

    monkeypatch.setattr(models, "resolve_model", no_model, raising=False)
    monkeypatch.setattr(models, "load_encoder", no_model, raising=False)
    with pytest.raises(AfroadvError, match="is a file"):
        run_attack(AttackConfig(model="tiny-xlmr", lang="hau"), out)
    with pytest.raises(AfroadvError, match="cannot create"):
        run_attack(AttackConfig(model="tiny-xlmr", lang="hau"), out / "inside")


def _unwritable_folder(tmp_path: Path) -> Path | None:
    """An existing folder this process cannot create files in (chmod when not root; as root, a
    read-only system folder such as /sys), or None."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    for candidate in ("/sys", "/proc/sys"):
        try:
            fd, probe = tempfile.mkstemp(dir=candidate)
        except OSError:
            return Path(candidate)
        os.close(fd)
        os.unlink(probe)
    return None


def test_read_only_out_folder_fails_before_the_model_loads(tmp_path):
    folder = _unwritable_folder(tmp_path)
    if folder is None:
        pytest.skip("no folder this process cannot write in")
    try:
        before = sorted(os.listdir(folder))
        r = run_cli("attack", "--model", NO_MODEL, "--lang", "hau", "--out", folder,
                    env={"AFROADV_CACHE": str(tmp_path / "c")})
        line = one_line_error(r)
        assert "cannot write in" in line and str(folder) in line
        assert sorted(os.listdir(folder)) == before
        # a folder to be made inside it
        r = run_cli("attack", "--model", NO_MODEL, "--lang", "hau", "--out", folder / "sub" / "dir",
                    env={"AFROADV_CACHE": str(tmp_path / "c")})
        line = one_line_error(r)
        assert "cannot write in" in line or "cannot create" in line
        assert sorted(os.listdir(folder)) == before
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o755)


# ---------------------------------------------------------------- input bounds
def test_a_1mb_sentence_is_refused_up_front(tmp_path):
    """The review's case: one 1 MB sentence used to drive the attack past 24 GB (even with
    --max-queries 30). Now: one line naming the pair and its length, at once, nothing written."""
    big = "gida " * 199_999 + "gidan"  # 1,000,000 characters
    data = pairs_file(tmp_path / "pairs.jsonl", [("ok-1", "Ina son ruwa.", "Ina son abinci."), ("huge-2", "Ina nan.", big)])
    out = tmp_path / "out"
    t0 = time.monotonic()
    r = run_cli("attack", "--model", NO_MODEL, "--lang", "hau", "--dataset", data, "--out", out, "--max-queries", "30",
                env={"AFROADV_CACHE": str(tmp_path / "c")})
    line = one_line_error(r)
    assert time.monotonic() - t0 < 60
    assert "huge-2" in line and "sentence 2" in line and "1,000,000 characters" in line and "--max-chars" in line
    assert "2,000" in line  # the default limit
    assert not out.exists()
    # the limit is an option: 2,001 characters fail by default and with --max-chars 2000 ...
    data = pairs_file(tmp_path / "p2.jsonl", [("edge-1", "a" * 2001, "Ina nan.")])
    for extra in ([], ["--max-chars", "2000"]):
        r = run_cli("attack", "--model", NO_MODEL, "--lang", "hau", "--dataset", data, "--out", out, *extra,
                    env={"AFROADV_CACHE": str(tmp_path / "c")})
        assert "edge-1" in one_line_error(r) and "2,001 characters" in r.stderr
    # ... and pass the length check with --max-chars 2001 (then the missing model is the problem)
    r = run_cli("attack", "--model", NO_MODEL, "--lang", "hau", "--dataset", data, "--out", out, "--max-chars", "2001",
                env={"AFROADV_CACHE": str(tmp_path / "c")})
    assert "characters" not in one_line_error(r)
    assert not out.exists()


def test_check_lengths_in_the_library():
    from afroadv.attack.runner import check_lengths
    from afroadv.data.pairs import Pair

    pairs = [Pair("a", "hau", "sts", "x" * 10, "y" * 10, 0.5), Pair("b", "hau", "sts", "x" * 5, "y" * 11, 0.5)]
    check_lengths(pairs, 11)
    with pytest.raises(AfroadvError, match=r"pair b: sentence 2 has 11 characters, over the --max-chars limit of 10"):
        check_lengths(pairs, 10)


def test_sentence_over_the_model_window_is_refused_in_tokens(tiny, tmp_path):
    """Words past the model's window (512 tokens for the tiny XLM-R) cannot move the score: such a
    sentence is refused up front, by its tokens, unless --max-tokens allows it."""
    long = " ".join(["ruwa"] * 600)  # ~600 tokens in 3,000 characters
    data = pairs_file(tmp_path / "p.jsonl", [("short-1", "Ina son ruwa.", "Ina son abinci."), ("long-2", long, "Ina nan.")])
    out = tmp_path / "out"
    env = {"AFROADV_CACHE": str(tmp_path / "c")}
    r = run_cli("attack", "--model", tiny, "--lang", "hau", "--dataset", data, "--out", out, "--max-chars", "5000", env=env)
    line = one_line_error(r)
    assert "long-2" in line and "sentence 1" in line and "tokens" in line and "512-token window" in line
    assert not out.exists()
    # in the library, without loading weights: --max-tokens replaces the window
    from afroadv.attack.runner import check_token_lengths
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language
    from afroadv.models import load_encoder

    encoder = load_encoder(str(tiny), cache=False)
    pairs = load_dataset(get_language("hau"), str(data)).pairs
    check_token_lengths(pairs, encoder, 1000)
    check_token_lengths(pairs[:1], encoder)
    with pytest.raises(AfroadvError, match=r"pair long-2: sentence 1 has [\d,]+ tokens, over --max-tokens 20$"):
        check_token_lengths(pairs, encoder, 20)
    assert not encoder.loaded


def test_long_sentences_attack_within_a_memory_bound(tiny, tmp_path):
    """Allowed past both limits, a long pair is attacked; the search holds about (queries left) ×
    (text length) at once, not every candidate: peak Python memory stays small."""
    from afroadv.attack.core import AttackSpace, Goal
    from afroadv.attack.search import ExampleSearch

    words = "gida ruwa abinci makaranta littafi kasuwa mota hanya birni gari".split()
    s1 = " ".join(words[i % 10] for i in range(2000))  # ~13,000 characters
    s2 = " ".join(reversed(s1.split()))
    space = AttackSpace.build("charnoise", "hau", seed=0, candidates=3, budget=0.2)
    assert len(space.analyse((s1, s2)).eligible) > 3000
    calls = []

    def score(items):
        calls.append(len(items))
        return [0.5 + 1e-4 * (hash(c) % 7) for c in items]

    for method in ("greedy", "beam"):
        search = ExampleSearch(space, Goal("move", 0.9), score, max_queries=30)
        tracemalloc.start()
        out = search.run((s1, s2), None, method, beam_width=4)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert out.queries == 30 and sum(calls) <= 31
        # every candidate at once: > 3,000 words × several rewrites × 2 × 13 kB ≫ 100 MB
        assert peak < 40 << 20, (method, peak)
        calls.clear()


def test_limited_candidates_are_exactly_the_first_of_the_full_sorted_list():
    """The bounded selection changes memory, never the result: the first N candidates in text order."""
    from afroadv.attack.core import AttackSpace, Goal
    from afroadv.attack.search import ExampleSearch, Node
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    space = AttackSpace.build("charnoise", "hau", seed=0, candidates=3)
    search = ExampleSearch(space, Goal("move", 0.5), lambda items: [0.0] * len(items), max_queries=50)
    for p in load_dataset(get_language("hau")).pairs[:20]:
        cols = (p.sentence1, p.sentence2)
        search.original = cols
        node = Node(cols, frozenset(), 0.5, 0.0, False)
        full = search._candidates(node)
        for n in (1, 2, 7, len(full), len(full) + 5):
            assert search._candidates(node, None, n) == full[:n]
        assert search._candidates(node, None, 0) == []


def test_beam_with_one_query_returns_the_original(tiny, tmp_path):
    """--max-queries 1: the original pair's query spends the budget; the beam gives up cleanly
    (TextAttack's own BeamSearch would fail on an empty argmax)."""
    from test_attack import attack

    run = attack(tiny, tmp_path / "o", tmp_path / "c.sqlite3", limit=2, search="beam", max_queries=1, candidates=1)
    for r in run.records:
        assert r["queries"] == 1 and r["changes"] == [] and r["status"] == "failed"


def test_scorer_memo_is_bounded_in_bytes_not_items():
    """PairScorer's memo counts its texts too: long texts cannot grow it past its byte budget."""
    import numpy as np

    from afroadv.attack.wrapper import PairScorer

    class Fake:
        texts_encoded = 0

        def encode(self, texts):
            self.texts_encoded += len(texts)
            return np.ones((len(texts), 8), dtype=np.float32) / np.sqrt(8)

    scorer = PairScorer(Fake(), memo_bytes=2 << 20)
    for i in range(200):
        scorer.score_pairs([(f"{i} " + "x" * 50_000, f"{i} " + "y" * 50_000)])
        assert scorer._memo_used <= (2 << 20) + 2 * 51_000 + 1000
        assert scorer._memo_used == sum(scorer._size(t, v) for t, v in scorer._memo.items())
    assert len(scorer._memo) < 60


def test_attack_space_memos_are_bounded_in_characters(monkeypatch):
    import afroadv.attack.core as core

    monkeypatch.setattr(core, "ANALYSIS_CHARS", 50_000)
    monkeypatch.setattr(core, "REWRITE_CHARS", 20_000)
    space = core.AttackSpace.build("charnoise", "hau", seed=0)
    for i in range(100):
        space.analyse((f"gida{i} " * 300, "ruwa " * 100))
        space.rewrites(f"makaranta{i}" * 20)
    assert space._analysis_chars <= 50_000 and len(space._analysis) < 100
    assert space._analysis_chars == sum(len(a) + len(b) for a, b in space._analysis)
    assert space._rewrites_chars <= 20_000


# ---------------------------------------------------------------- TextAttack's staging
def test_nltk_staging_uses_an_unpredictable_temp_name(tmp_path, monkeypatch):
    """The old staging wrote `english.tmp` and renamed it: a planted link at that name redirected
    the write. Now the temp file is random (mkstemp) and the planted link is left alone."""
    from afroadv.attack.ta_env import stage_nltk_data

    monkeypatch.setenv("AFROADV_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "nltk_data" / "corpora" / "stopwords"
    folder.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched\n")
    (folder / "english.tmp").symlink_to(victim)
    root = stage_nltk_data()
    assert root == tmp_path / "cache" / "nltk_data"
    target = folder / "english"
    assert target.is_file() and not target.is_symlink() and "the" in target.read_text().split()
    assert victim.read_text() == "untouched\n"
    assert sorted(p.name for p in folder.iterdir()) == ["english", "english.tmp"]  # no leftovers of its own


_GUARDED_CLI = r"""
import json, socket, sys
attempts_file, argv = sys.argv[1], sys.argv[2:]
attempts = []
LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", None, ""}

def record(what):
    attempts.append(what)
    with open(attempts_file, "w") as f:
        json.dump(attempts, f)

def hook(event, args):
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if sock.family == getattr(socket, "AF_UNIX", None) or (isinstance(address, tuple) and str(address[0]) in LOCAL):
            return
        record([event, repr(address)])
        raise OSError("network attempted in a test that forbids it")
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        if host in LOCAL:
            return
        record([event, repr(host)])
        raise OSError("network attempted in a test that forbids it")
    if event == "urllib.Request":
        record([event, repr(args[0])])
        raise OSError("network attempted in a test that forbids it")

sys.addaudithook(hook)
with open(attempts_file, "w") as f:
    json.dump(attempts, f)
from afroadv.cli import main
main(argv)
"""


def test_textattack_engine_without_the_extra_names_it(monkeypatch, tmp_path):
    """textattack is an optional extra (it caps transformers below 5): without it, `--engine
    textattack` is one line naming the extra, before any model is looked up or file written."""
    monkeypatch.setitem(sys.modules, "textattack", None)  # find_spec answers None: as if not installed
    out = tmp_path / "out"
    r = run_cli_here("attack", "--model", NO_MODEL, "--lang", "hau", "--out", out, "--engine", "textattack")
    assert 'pip install "afroadv[textattack]"' in one_line_error(r)
    r = run_cli_here("attack", "--model", NO_MODEL, "--lang", "hau", "--out", out, "--words", "textattack")
    line = one_line_error(r)
    assert line.startswith("afroadv: error: --words textattack needs") and 'pip install "afroadv[textattack]"' in line
    assert not out.exists()


@pytest.mark.skipif(not HAS_TEXTATTACK, reason="textattack is not installed (optional extra: afroadv[textattack])")
def test_textattack_engine_with_a_fresh_cache_stays_offline(tiny, tmp_path):
    """The review's case: `attack --engine textattack` with an empty TextAttack cache (TA_CACHE_DIR,
    which ta_env and textattack both read) and no staged NLTK data used to try six nltk downloads
    (DNS + HTTPS) and then crash on `LookupError: stopwords`. In a fresh process under an audit
    hook that refuses and records any network attempt, it now succeeds without one."""
    ta_cache = tmp_path / "ta-cache"  # empty: no post-install marker
    attempts = tmp_path / "attempts.json"
    out = tmp_path / "out"
    env = {**os.environ, "TA_CACHE_DIR": str(ta_cache), "AFROADV_CACHE": str(tmp_path / "afroadv-cache"),
           "NLTK_DATA": str(tmp_path / "no-nltk-data"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    args = ["attack", "--model", str(tiny), "--lang", "hau", "--out", str(out), "--engine", "textattack",
            "--limit", "2", "--candidates", "1", "--budget", "0.1", "--delta", "0.02", "--threads", "1"]
    r = subprocess.run([sys.executable, "-c", _GUARDED_CLI, str(attempts), *args], capture_output=True, text=True,
                       env=env, timeout=600)
    assert json.loads(attempts.read_text()) == []
    assert r.returncode == 0, r.stderr[-3000:]
    assert "nltk_data" not in r.stderr and "LookupError" not in r.stderr
    assert (ta_cache / "post_install_check_3").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 2
    for name in ("adversarial.jsonl", "adversarial.manifest.json", "log.jsonl", "checkpoint.jsonl"):
        assert (out / name).is_file()
