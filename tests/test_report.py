"""`build_report`: merging results files into Markdown, one self-contained HTML page and PNG plots."""

import json
import subprocess
import sys

import pytest

from afroadv import __version__
from afroadv.errors import AfroadvError
from afroadv.report import build_report, load_results

pytest.importorskip("matplotlib")

MODELS = {"small-enc": 118_000_000, "big-enc": 560_000_000}
LANGS = ("hau", "kin")
RECIPES = ("charnoise", "codeswitch")


def sts_rows(model, params):
    rows = []
    for li, lang in enumerate(LANGS):
        base = 70.0 + 5 * li + (8 if params > 200_000_000 else 0)
        rows.append({"model": model, "model_params": params, "lang": lang, "dataset": "semrel", "task": "sts",
                     "recipe": "clean", "n": 100 + li, "spearman": base, "pearson": base - 1,
                     "spearman_ci": [base - 4, base + 4]})  # fmt: skip
        for ri, recipe in enumerate(RECIPES):
            # distinctive drops: 12.3 / 20.3 for the small model on hau, smaller for the big one
            drop = 12.3 + 8 * ri + 2 * li - (5 if params > 200_000_000 else 0)
            rows.append({"model": model, "model_params": params, "lang": lang, "dataset": "semrel", "task": "sts",
                         "recipe": recipe, "n": 100 + li, "spearman": base - drop, "pearson": base - drop - 1,
                         "spearman_ci": [base - drop - 4, base - drop + 4], "drop": drop,
                         "drop_ci": [drop - 4.2, drop + 3.7], "edit_rate": 0.1 + 0.05 * ri, "changed_share": 0.9})  # fmt: skip
    return rows


def bitext_rows(model, params):
    acc = 80.0 if params > 200_000_000 else 64.5
    rows = [{"model": model, "model_params": params, "lang": "yor", "dataset": "ntrex", "task": "bitext",
             "recipe": "clean", "n": 50, "accuracy": acc, "accuracy_ci": [acc - 5, acc + 5]}]  # fmt: skip
    for ri, recipe in enumerate(RECIPES):
        drop = 9.5 + 3 * ri
        rows.append({"model": model, "model_params": params, "lang": "yor", "dataset": "ntrex", "task": "bitext",
                     "recipe": recipe, "n": 50, "accuracy": acc - drop, "accuracy_ci": [acc - drop - 5, acc - drop + 5],
                     "drop": drop, "drop_ci": [drop - 3, drop + 3], "edit_rate": 0.2, "changed_share": 0.95})  # fmt: skip
    return rows


INVARIANCE = {"model": "small-enc", "model_params": 118_000_000, "lang": "hau", "dataset": "hau-news", "task": "invariance",
              "recipe": "charnoise", "n": 40, "mean_cos_self": 0.912, "mean_cos_random": 0.231, "margin": 0.681,
              "margin_ci": [0.652, 0.707]}  # fmt: skip


def results_file(path, rows, version=__version__, seed=0):
    doc = {"afroadv_version": version, "kind": "evaluation-results", "manifest": {"seed": seed, "models": list(MODELS)}, "results": rows}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("two")
    a = results_file(d / "a.json", sts_rows("small-enc", MODELS["small-enc"]) + bitext_rows("small-enc", MODELS["small-enc"]) + [INVARIANCE])
    b = results_file(d / "b.json", sts_rows("big-enc", MODELS["big-enc"]) + bitext_rows("big-enc", MODELS["big-enc"]))
    return [a, b], build_report([a, b], d / "report")


def test_files_exist_and_markdown_has_the_numbers(two_models):
    _, out = two_models
    for key in ("markdown", "html", "drop_sts", "drop_bitext", "drop_vs_size"):
        assert out[key].is_file() and out[key].stat().st_size > 0, key
    assert out["drop_sts"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = out["markdown"].read_text(encoding="utf-8")
    assert "| small-enc (118M) | big-enc (560M) |" in md
    assert "| hau | semrel | clean | 100 | – | – | 70.0 [66.0, 74.0] | 78.0 [74.0, 82.0] |" in md
    assert "| hau | semrel | charnoise | 100 | 90.0% | 10.0% | 12.3 [8.1, 16.0] | 7.3 [3.1, 11.0] |" in md
    assert "| kin | semrel | codeswitch | 101 | 90.0% | 15.0% | 22.3 [18.1, 26.0] | 17.3 [13.1, 21.0] |" in md
    assert "| yor | ntrex | clean | 50 | – | – | 64.5 [59.5, 69.5] | 80.0 [75.0, 85.0] |" in md
    assert "| yor | ntrex | codeswitch | 50 | 95.0% | 20.0% | 12.5 [9.5, 15.5] | 12.5 [9.5, 15.5] |" in md
    # mean over hau and kin of 12.3 and 14.3
    assert "| charnoise | 2 | hau, kin | 13.3 " in md
    # an older row (raw margin only) still loads: its margin in its own column, a note that it is not calibrated
    assert "| hau | hau-news | charnoise | small-enc | 40 | 0.912 | 0.231 | – | – | – | 0.681 [0.652, 0.707] |" in md
    assert "carries invariance rows with only the raw cosine margin" in md
    assert "![" in md and "(drop_vs_size.png)" in md and "skipped" not in md


def test_html_is_one_self_contained_page(two_models):
    _, out = two_models
    page = out["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count("data:image/png;base64,") == 3
    for bad in ('src="http', "src='http", "<script", "<link", "url(http", "@import"):
        assert bad not in page
    assert "12.3 [8.1, 16.0]" in page


def test_output_is_deterministic(two_models, tmp_path):
    files, out = two_models
    again = build_report(files, tmp_path / "again")
    assert set(again) == set(out)
    for key in out:
        assert again[key].read_bytes() == out[key].read_bytes(), key
    assert b"Software" not in out["drop_vs_size"].read_bytes()


def test_later_file_wins_on_the_same_key(two_models, tmp_path):
    files, _ = two_models
    row = dict(sts_rows("small-enc", MODELS["small-enc"])[1], drop=33.3, drop_ci=[30.1, 36.6])
    fix = results_file(tmp_path / "fix.json", [row])
    md = build_report([*files, fix], tmp_path / "r")["markdown"].read_text(encoding="utf-8")
    assert "| hau | semrel | charnoise | 100 | 90.0% | 10.0% | 33.3 [30.1, 36.6] |" in md
    assert "12.3 [8.1, 16.0]" not in md


def test_other_seeds_are_compared_not_silently_replaced(tmp_path):
    rows = sts_rows("small-enc", MODELS["small-enc"])
    a = results_file(tmp_path / "s0.json", rows)
    b = results_file(tmp_path / "s1.json", [dict(r, drop=r["drop"] + 2.0) if "drop" in r else r for r in rows], seed=1)
    md = build_report([a, b], tmp_path / "r")["markdown"].read_text(encoding="utf-8")
    assert "## Across seeds" in md
    # hau charnoise: 12.3 under seed 0, 14.3 under seed 1 -> mean 13.3, spread 2.0
    assert "| small-enc | hau | semrel | charnoise | 12.3 | 14.3 | 13.3 | 2.0 |" in md
    alone = build_report([a], tmp_path / "r0")["markdown"].read_text(encoding="utf-8")
    assert "## Across seeds" not in alone


def test_one_model_skips_the_size_plot_and_says_so(tmp_path):
    f = results_file(tmp_path / "one.json", sts_rows("small-enc", MODELS["small-enc"]))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "drop_vs_size.png").write_bytes(b"stale")  # from an earlier report
    out = build_report([f], tmp_path / "r")
    assert "drop_vs_size" not in out and not (tmp_path / "r" / "drop_vs_size.png").exists()
    assert out["drop_sts"].is_file() and "drop_bitext" not in out
    md = out["markdown"].read_text(encoding="utf-8")
    assert "`drop_vs_size.png` skipped" in md and "only one model" in md
    assert "<code>drop_vs_size.png</code> skipped" in out["html"].read_text(encoding="utf-8")


def test_unknown_parameter_counts_skip_the_size_plot(tmp_path):
    rows = [dict(r, model_params=None) for r in sts_rows("small-enc", 1) + sts_rows("other", 1)]
    out = build_report([results_file(tmp_path / "x.json", rows)], tmp_path / "r")
    assert "drop_vs_size" not in out
    assert "known parameter count" in out["markdown"].read_text(encoding="utf-8")


GOOD = sts_rows("m", 1000)


@pytest.mark.parametrize(
    "content,message",
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "not an afroadv results file"),
        (json.dumps({"afroadv_version": __version__, "kind": "generated-set", "results": []}), "kind 'generated-set'"),
        (json.dumps({"afroadv_version": "9.9.0", "kind": "evaluation-results", "results": GOOD}), "written by afroadv 9.9.0"),
        (json.dumps({"kind": "evaluation-results", "results": GOOD}), "afroadv_version"),
        (json.dumps({"afroadv_version": __version__, "kind": "evaluation-results", "results": {}}), "'results' must be a list"),
        (json.dumps({"afroadv_version": __version__, "kind": "evaluation-results",
                     "results": [{k: v for k, v in GOOD[1].items() if k != "drop"}]}), "results[0] lacks field 'drop'"),  # fmt: skip
        (json.dumps({"afroadv_version": __version__, "kind": "evaluation-results",
                     "results": [dict(GOOD[0], spearman="high")]}), "results[0].spearman must be a number"),  # fmt: skip
        (json.dumps({"afroadv_version": __version__, "kind": "evaluation-results",
                     "results": [dict(GOOD[0], task="nli")]}), "results[0].task is 'nli'"),  # fmt: skip
    ],
)
def test_bad_files_raise_one_line_naming_the_file(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    good = results_file(tmp_path / "good.json", GOOD)
    with pytest.raises(AfroadvError) as e:
        build_report([good, bad], tmp_path / "r")
    text = str(e.value)
    assert message in text and str(bad) in text and "\n" not in text
    assert not (tmp_path / "r").exists()


def test_missing_file_and_empty_input(tmp_path):
    with pytest.raises(AfroadvError, match="cannot read results file"):
        build_report([tmp_path / "nope.json"], tmp_path / "r")
    with pytest.raises(AfroadvError, match="no results files"):
        build_report([], tmp_path / "r")
    with pytest.raises(AfroadvError, match="no result rows"):
        build_report([results_file(tmp_path / "empty.json", [])], tmp_path / "r")


def test_same_major_minor_other_patch_is_accepted(tmp_path):
    major, minor = __version__.split(".")[:2]
    f = results_file(tmp_path / "p.json", GOOD, version=f"{major}.{minor}.99")
    assert len(load_results(f)) == len(GOOD)


def test_importing_the_module_does_not_import_matplotlib():
    code = "import sys, afroadv.report; print('matplotlib' in sys.modules, 'numpy' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
