"""`afroadv check`: exit codes 0 (pass) / 1 (regression) / 2 (unusable input) on synthetic results
files, the noise rule (a change inside the new bootstrap CI does not fail), --min-clean, model
matching, --update-baseline and thresholds YAML."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import run_cli

from afroadv import __version__
from afroadv.check import check, load_thresholds
from afroadv.cli import main
from afroadv.errors import AfroadvError


def _sts(model, lang, recipe, score, ci, drop=None, drop_ci=None, n=30):
    row = {"model": model, "model_id": f"org/{model}", "model_params": 118_000_000, "lang": lang, "dataset": "semrel",
           "task": "sts", "recipe": recipe, "n": n, "spearman": score, "pearson": score, "spearman_ci": ci}
    if recipe != "clean":
        row.update(drop=drop, drop_ci=drop_ci, clean_spearman=score + drop, edit_rate=0.1, changed_share=0.9)
    return row


def make_doc(model="e5-small", seed=0, *, models=None, version=__version__):
    rows, sets = [], []
    for m in models or [model]:
        for lang in ("hau", "kin"):
            rows += [_sts(m, lang, "clean", 70.0, [64.0, 76.0]),
                     _sts(m, lang, "charnoise", 65.0, [58.0, 71.0], 5.0, [3.0, 7.0]),
                     _sts(m, lang, "codeswitch", 60.0, [52.0, 67.0], 10.0, [7.0, 13.0])]
    for lang in ("hau", "kin"):
        for recipe in ("charnoise", "codeswitch"):
            sets.append({"lang": lang, "dataset": "semrel", "task": "sts", "recipe": recipe, "n": 30, "seed": seed,
                         "input_sha256": f"sha-{lang}", "parameters": {"rate": 0.1}, "split": "test"})
    rows.append({"model": models[0] if models else model, "model_id": "x", "model_params": None, "lang": "hau",
                 "dataset": "tweets", "task": "invariance", "recipe": "charnoise", "n": 30, "mean_cos_self": 0.9,
                 "mean_cos_random": 0.5, "margin": 0.4, "margin_ci": [0.38, 0.42]})
    sets.append({"lang": "hau", "dataset": "tweets", "task": "invariance", "recipe": "charnoise", "n": 30, "seed": seed,
                 "input_sha256": "sha-tweets"})
    return {"afroadv_version": version, "kind": "evaluation-results", "results": rows,
            "manifest": {"afroadv_version": version, "seed": seed, "bootstrap": {"n": 200, "ci": 0.95, "paired": True},
                         "models": [{"model": model, "fingerprint": "abc"}], "sets": sets}}


def _row(doc, lang, recipe, task="sts"):
    return next(r for r in doc["results"] if r["lang"] == lang and r["recipe"] == recipe and r["task"] == task)


def _write(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def cli(capsys, *args):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture
def files(tmp_path):
    base = _write(tmp_path / "baseline.json", make_doc())

    def results(mutate=None, model="e5-small", **kw):
        doc = make_doc(model, **kw)
        if mutate:
            mutate(doc)
        return _write(tmp_path / "results.json", doc)

    return base, results


def test_pass_identical_and_real_exit_code(files, capsys):
    base, results = files
    res = results()
    code, out, _ = cli(capsys, "check", res, "--baseline", base)
    assert code == 0 and out.startswith("afroadv check: PASS: 7 cell(s)")
    r = run_cli("check", res, "--baseline", base)  # the console entry point, in a subprocess
    assert r.returncode == 0, r.stderr


def test_regression_exits_1_with_a_table(files, capsys):
    base, results = files

    def worse(doc):
        _row(doc, "hau", "charnoise").update(drop=9.0, drop_ci=[7.5, 10.5])  # +4 points, baseline 5 below the CI

    code, out, _ = cli(capsys, "check", results(worse), "--baseline", base)
    assert code == 1
    assert "REGRESSION: 1 of 7 cell(s) regressed" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("FAIL"))
    assert "hau" in line and "charnoise" in line and "drop" in line and "+4.00" in line and line.rstrip().endswith("yes")
    r = run_cli("check", results(worse), "--baseline", base)
    assert r.returncode == 1 and "FAIL" in r.stdout


def test_noise_inside_the_ci_does_not_fail(files, capsys):
    base, results = files

    def noisy(doc):
        _row(doc, "hau", "charnoise").update(drop=7.0, drop_ci=[4.0, 10.0])  # +2 > limit 1, but 5 lies inside the CI
        _row(doc, "kin", "clean").update(spearman=67.0, spearman_ci=[60.0, 74.0])  # -3, inside the CI

    code, out, _ = cli(capsys, "check", results(noisy), "--baseline", base)
    assert code == 0, out
    assert "2 change(s) over a limit but inside the bootstrap CI (noise)" in out
    assert sum(ln.startswith("noise") for ln in out.splitlines()) == 2 and "no (noise)" in out
    # the same changes with the CI excluding the baseline do fail
    code, out, _ = cli(capsys, "check", results(lambda d: _row(d, "kin", "clean").update(spearman=67.0, spearman_ci=[68.5, 69.5])),
                       "--baseline", base)
    assert code == 1 and "clean score" in out
    # a small change within the limit passes even when outside the CI
    code, out, _ = cli(capsys, "check", results(lambda d: _row(d, "hau", "codeswitch").update(drop=10.8, drop_ci=[10.5, 11.0])),
                       "--baseline", base)
    assert code == 0 and "FAIL" not in out


def test_weaker_model_fails_on_clean_scores_and_min_clean(files, capsys):
    base, results = files

    def random_model(doc):  # a random model: low clean scores, hence small drops
        for r in doc["results"]:
            if r["task"] == "sts":
                r.update(spearman=2.0, spearman_ci=[-15.0, 19.0])
                if r["recipe"] != "clean":
                    r.update(drop=0.5, drop_ci=[-2.0, 3.0])

    code, out, _ = cli(capsys, "check", results(random_model, model="tiny-xlmr"), "--baseline", base)
    assert code == 1
    assert "comparing model tiny-xlmr against baseline model e5-small" in out
    assert sum(ln.startswith("FAIL") for ln in out.splitlines()) == 2  # the two clean cells
    code, out, _ = cli(capsys, "check", results(lambda d: _row(d, "hau", "clean").update(spearman=69.6)), "--baseline", base,
                       "--min-clean", "69.8")
    assert code == 1 and "min 69.8" in out
    # strict matching on the model name: the other model's cells are missing
    code, _, err = cli(capsys, "check", results(model="tiny-xlmr"), "--baseline", base, "--match-on", "model,lang,dataset,recipe")
    assert code == 2 and "missing" in err


def test_invariance_margin_is_checked(files, capsys):
    base, results = files
    code, out, _ = cli(capsys, "check", results(lambda d: _row(d, "hau", "charnoise", "invariance").update(
        margin=0.35, margin_ci=[0.33, 0.37])), "--baseline", base)
    assert code == 1 and "margin x100" in out and "+5.00" in out


def test_multi_model_files_match_on_model(tmp_path, capsys):
    base = _write(tmp_path / "b.json", make_doc(models=["a", "b"]))
    doc = make_doc(models=["a", "b"])
    next(r for r in doc["results"] if r["model"] == "b" and r["recipe"] == "codeswitch").update(drop=20.0, drop_ci=[18.0, 22.0])
    res = _write(tmp_path / "r.json", doc)
    code, out, _ = cli(capsys, "check", res, "--baseline", base)
    assert code == 1 and [ln.split()[:2] for ln in out.splitlines() if ln.startswith("FAIL")] == [["FAIL", "b"]]
    code, _, err = cli(capsys, "check", res, "--baseline", base, "--match-on", "lang,dataset,recipe")
    assert code == 2 and "several models" in err


def _drop_cell(doc):
    doc["results"] = [r for r in doc["results"] if not (r["lang"] == "kin" and r["recipe"] == "codeswitch")]


def _other_dataset(doc):
    for r in doc["results"]:
        if r["lang"] == "kin":
            r["dataset"] = "mydata"
    for s in doc["manifest"]["sets"]:
        if s["lang"] == "kin":
            s["dataset"] = "mydata"


def _other_data(doc):
    doc["manifest"]["sets"][0]["input_sha256"] = "sha-other"


def _other_task(doc):
    r = _row(doc, "hau", "charnoise")
    r.update(task="bitext", accuracy=r.pop("spearman"), accuracy_ci=r.pop("spearman_ci"))


def _other_n(doc):
    _row(doc, "hau", "clean")["n"] = 20


def _null_score(doc):
    _row(doc, "hau", "clean")["spearman"] = None


def _no_manifest(doc):
    del doc["manifest"]


@pytest.mark.parametrize("mutate, kw, reason", [
    (_drop_cell, {}, "1 baseline cell(s) missing"),
    (None, {"seed": 1}, "seeds differ"),
    (_other_dataset, {}, "datasets differ"),
    (_other_data, {}, "differs from the baseline's in its input pairs"),
    (_other_task, {}, "different scores cannot be compared"),
    (_other_n, {}, "the sets differ"),
    (_null_score, {}, "undefined (null)"),
    (_no_manifest, {}, "no manifest"),
    (None, {"version": "0.0.1"}, "written by afroadv 0.0.1"),
])
def test_unusable_input_exits_2_with_one_line(files, capsys, mutate, kw, reason):
    base, results = files
    code, out, err = cli(capsys, "check", results(mutate, **kw), "--baseline", base)
    assert code == 2 and out == ""
    assert reason in err and err.startswith("afroadv: error:") and err.count("\n") == 1, err


def test_unusable_files(tmp_path, files, capsys):
    base, results = files
    res = results()
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "evaluation-results", "results": [', encoding="utf-8")
    for args, reason in [((res, "--baseline", tmp_path / "nope.json"), "baseline file not found"),
                         ((bad, "--baseline", base), "malformed JSON"),
                         ((res, "--baseline", base, "--match-on", "lang,colour"), "unknown field 'colour'"),
                         ((res, "--baseline", base, "--max-drop-increase", "-1"), "must be a number >= 0")]:
        code, _, err = cli(capsys, "check", *args)
        assert code == 2 and reason in err, err


def test_update_baseline_writes_atomically(tmp_path, files, capsys):
    base, results = files
    res = results(lambda d: _row(d, "hau", "charnoise").update(drop=9.0, drop_ci=[7.5, 10.5]))
    code, out, _ = cli(capsys, "check", res, "--baseline", base, "--update-baseline")
    assert code == 0 and "REGRESSION" in out and "baseline updated" in out  # shows what changed, accepts it
    assert base.read_bytes() == res.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    code, _, _ = cli(capsys, "check", res, "--baseline", base)
    assert code == 0
    new = tmp_path / "sub" / "first.json"  # no baseline yet: created
    code, out, _ = cli(capsys, "check", res, "--baseline", new, "--update-baseline")
    assert code == 0 and new.read_bytes() == res.read_bytes()
    # an incomparable old baseline is replaced (with a note); an unusable results file is not written
    code, out, _ = cli(capsys, "check", results(seed=3), "--baseline", new, "--update-baseline")
    assert code == 0 and "not comparable (seeds differ" in out
    before = new.read_bytes()
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    code, _, err = cli(capsys, "check", tmp_path / "broken.json", "--baseline", new, "--update-baseline")
    assert code == 2 and "malformed JSON" in err and new.read_bytes() == before


def test_thresholds_yaml(tmp_path, files, capsys):
    base, results = files
    res = results(lambda d: (_row(d, "hau", "charnoise").update(drop=9.0, drop_ci=[7.5, 10.5]),
                             _row(d, "kin", "codeswitch").update(drop=13.0, drop_ci=[11.0, 15.0])))
    th = tmp_path / "th.yaml"
    th.write_text("max-drop-increase: 2.0\nrecipes:\n  charnoise: {max_drop_increase: 5}\n", encoding="utf-8")
    code, out, _ = cli(capsys, "check", res, "--baseline", base, "--thresholds", th)
    assert code == 1 and [ln.split()[4] for ln in out.splitlines() if ln.startswith("FAIL")] == ["codeswitch"]
    # per-language (an alias works), per-cell, and null disables a limit
    th.write_text("recipes: {charnoise: {max_drop_increase: 5}}\nlangs: {rw: {max_drop_increase: null}}\n", encoding="utf-8")
    assert cli(capsys, "check", res, "--baseline", base, "--thresholds", th)[0] == 0
    th.write_text("cells:\n  - {lang: hau, recipe: charnoise, max_drop_increase: 4.5}\n  - {lang: kin, max-drop-increase: 3.5}\n",
                  encoding="utf-8")
    assert cli(capsys, "check", res, "--baseline", base, "--thresholds", th)[0] == 0
    # an explicit CLI flag beats the file's top-level default, not its per-recipe entries
    th.write_text("max_drop_increase: 10\nrecipes: {codeswitch: {max_drop_increase: 10}}\n", encoding="utf-8")
    code, out, _ = cli(capsys, "check", res, "--baseline", base, "--thresholds", th, "--max-drop-increase", "1")
    fails = [ln for ln in out.splitlines() if ln.startswith("FAIL")]
    assert code == 1 and len(fails) == 1 and "charnoise" in fails[0]
    # bad files: exit 2, one line
    for text, reason in [("max_drop: 1\n", "unknown key 'max_drop'"), ("langs: {hau: {min_clean: high}}\n", "must be a number"),
                         ("recipes: [1]\n", "must map a name"), ("a: [\n", "invalid YAML"), ("langs: {xx: {min_clean: 1}}\n", "unknown language")]:
        th.write_text(text, encoding="utf-8")
        code, _, err = cli(capsys, "check", res, "--baseline", base, "--thresholds", th)
        assert code == 2 and reason in err and err.count("\n") == 1, (text, err)


def test_api_returns_cells(files):
    base, results = files
    cr = check(results(), base)
    assert cr.passed and len(cr.cells) == 7 and all(c.worse_by == 0 for c in cr.cells)
    assert {c.measure for c in cr.cells} == {"clean", "drop", "margin"}
    assert load_thresholds(None).for_cell({}, {"task": "sts", "lang": "hau", "recipe": "x"})["max_drop_increase"] == 1.0
    with pytest.raises(AfroadvError):
        check(results(), base, match_on="recipe")
    assert copy.deepcopy(make_doc()) == make_doc()  # the fixture is deterministic
