"""Progress bars (afroadv.progress): drawn on a terminal, nothing at all otherwise; evaluate says
truthfully what is cached and draws its bar over the texts really encoded; sweep cells, attack pairs,
training steps and suite sets use the same bars."""

from __future__ import annotations

import io
import json
import types

import pytest
from rich.console import Console

from afroadv import progress
from afroadv.progress import Bar, track


def _terminal() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=120), buf


def _pipe() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=120), buf


def test_a_bar_draws_on_a_terminal_and_nothing_on_a_pipe():
    for make, drawn in ((_terminal, True), (_pipe, False)):
        console, buf = make()
        with progress.use_console(console):
            assert progress.showing() is drawn
            assert list(track(range(5), "counting sheep")) == list(range(5))
        assert ("counting sheep" in buf.getvalue()) is drawn
        assert drawn or buf.getvalue() == ""


def test_pytest_output_is_not_a_terminal_so_bars_are_off_by_default():
    assert not progress.showing()
    assert not Bar("x", 10).enabled


def test_nested_bars_share_one_display_and_close_it():
    console, buf = _terminal()
    with progress.use_console(console):
        with Bar("outer cells", 2) as outer:
            for _ in range(2):
                with Bar("inner encoding", 3) as inner:
                    inner.advance(3)
                outer.advance()
            assert progress._display is not None and progress._open == 1
    assert progress._display is None and progress._open == 0
    text = buf.getvalue()
    assert "outer cells" in text and "inner encoding" in text


def test_explicit_enabled_and_empty_work():
    console, buf = _terminal()
    with progress.use_console(console):
        with Bar("off", 5, enabled=False) as bar:
            bar.advance()
        with Bar("nothing to do", 0) as bar:
            bar.advance()
    assert buf.getvalue() == ""


# ----------------------------------------------------------------------------- evaluate


@pytest.fixture
def tiny_cache(module_cache):
    """This module's own cache (the tiny model is built once), its embeddings emptied."""
    pytest.importorskip("torch")
    from afroadv.models import default_cache

    default_cache().clear()
    return module_cache


def _evaluate_lines(capsys, sets):
    from afroadv.evaluate import evaluate

    evaluate(["tiny-xlmr"], sets, n_boot=20)
    return [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("[tiny-xlmr]")]


def test_evaluate_says_what_is_cached_and_bars_only_what_is_encoded(tiny_cache, capsys):
    from afroadv.evaluate import build_sets

    sets = build_sets("hau", ["charnoise"], None, "test", 0, 6)
    n = len({t for s in sets for pair in (*s.clean, *s.perturbed) for t in pair})
    (line,) = _evaluate_lines(capsys, sets)
    assert line == f"[tiny-xlmr] {n} unique sentences from {len(sets)} set(s): 0 cached, {n} to encode"

    console, buf = _terminal()
    with progress.use_console(console):
        (line,) = _evaluate_lines(capsys, sets)  # everything is cached now: no bar, and it says so
    assert line == f"[tiny-xlmr] {n} unique sentences from {len(sets)} set(s): {n} cached, 0 to encode"
    assert buf.getvalue() == ""

    more = build_sets("hau", ["charnoise"], None, "test", 0, 10)  # 4 more pairs: only their texts are new
    m = len({t for s in more for pair in (*s.clean, *s.perturbed) for t in pair})
    with progress.use_console(console):
        (line,) = _evaluate_lines(capsys, more)
    assert line == f"[tiny-xlmr] {m} unique sentences from {len(more)} set(s): {n} cached, {m - n} to encode"
    assert "[tiny-xlmr] encoding sentences" in buf.getvalue() and f"/{m - n}" in buf.getvalue()


def test_the_encoder_bar_counts_every_batch(tiny_cache):
    from afroadv.models import BiEncoder

    enc = BiEncoder("tiny-xlmr", cache=None, batch_size=2)
    enc.progress_label = "[t]"
    steps = []
    real = Bar.advance

    def spy(self, n=1):
        steps.append(n)
        real(self, n)

    console, _ = _terminal()
    with progress.use_console(console), pytest.MonkeyPatch.context() as mp:
        mp.setattr(Bar, "advance", spy)
        enc.encode([f"sentence number {i}" for i in range(7)])
    assert steps == [2, 2, 2, 1]


# ----------------------------------------------------------------------------- other long steps


def test_training_steps_bar_on_the_main_process_only():
    pytest.importorskip("transformers")
    from afroadv.train import TrainOptions, _progress_callback

    opts = TrainOptions(model="tiny-xlmr", out="unused", progress=True)
    console, buf = _terminal()
    with progress.use_console(console):
        for main, resumed_at in ((True, 3), (False, 0)):
            cb = _progress_callback(opts, True)
            state = types.SimpleNamespace(is_world_process_zero=main, max_steps=10, global_step=resumed_at)
            cb.on_train_begin(None, state, None)
            for _ in range(10 - resumed_at):
                cb.on_step_end(None, state, None)
            if main:
                assert cb.bar._task is not None and progress._display.tasks[0].completed == 10
            else:
                assert cb.bar is None
            cb.on_train_end(None, state, None)
    assert "train plain" in buf.getvalue() and progress._display is None


def test_sweep_cells_and_suite_sets_show_bars(tmp_path, monkeypatch):
    import afroadv.sweep as sweep

    cells = sweep.plan_cells(["tiny-xlmr"], ["hau", "kin"], ["charnoise"], limit=3)
    monkeypatch.setattr(sweep, "run_cell", lambda cell: {"results": []})
    monkeypatch.setattr(sweep, "_write_cell", lambda path, doc, cell: None)
    console, buf = _terminal()
    with progress.use_console(console):
        assert sweep._run_local([(c, tmp_path / c.filename) for c in cells], lambda msg: None) == []
    assert "sweep cells" in buf.getvalue() and "0/2" in buf.getvalue()  # (a transient bar: its first frame)

    from afroadv.suite import generate_suite

    console, buf = _terminal()
    with progress.use_console(console):
        generate_suite(["hau"], ["charnoise", "keyboard"], tmp_path / "suite", limit=2)
    assert "suite sets" in buf.getvalue()
    assert json.loads((tmp_path / "suite" / "suite.json").read_text())["sets"]


def test_attack_pairs_bar(tmp_path, module_cache):
    pytest.importorskip("torch")
    from afroadv.attack.command import attack_command  # noqa: F401 - the CLI passes progress=isatty
    from afroadv.attack.runner import AttackConfig, run_attack

    cfg = AttackConfig(model="tiny-xlmr", lang="hau", recipe="charnoise", limit=2)
    console, buf = _terminal()
    with progress.use_console(console):
        run_attack(cfg, tmp_path / "atk", progress=True)
    assert "attack charnoise hau" in buf.getvalue()


def test_chunked_sentence_transformers_encode_equals_one_call(tiny_cache):
    """The sentence-transformers path encodes in chunks (so its bar moves): same vectors, same order
    as one `SentenceTransformer.encode` call over every text."""
    import numpy as np

    from afroadv.models import BiEncoder

    enc = BiEncoder("tiny-xlmr", cache=None, batch_size=2, backend="sentence-transformers").load()
    texts = [("word " * (i % 7 + 1)) + f"number {i}" for i in range(40)]  # 40 > 2 x 8: three chunks
    ours = enc.encode(texts)
    one_call = enc._st.encode([enc.prefix + t for t in texts], batch_size=2, convert_to_numpy=True,
                              normalize_embeddings=True, show_progress_bar=False)
    np.testing.assert_allclose(ours, one_call, atol=1e-5)
    assert enc.batches_run == 20
