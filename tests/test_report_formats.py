"""`afroadv report`: csv/parquet long tables, which formats are written, what a non-results file is,
and results written by older afroadv versions."""

import csv
import json

import pytest

from afroadv import __version__
from afroadv.errors import AfroadvError
from afroadv.report import build_report, load_results
from afroadv.report.tables import with_ci
from afroadv.report.tidy import NAMES
from conftest import ROOT, run_cli, run_cli_here
from test_report import INVARIANCE, MODELS, bitext_rows, results_file, sts_rows

pytest.importorskip("matplotlib")

OLD = ROOT / "tests" / "data" / "older" / "e5-small-plain-hau.json"  # written by afroadv 0.1.0 (the first training experiment)


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    a = results_file(d / "a.json", sts_rows("small-enc", MODELS["small-enc"]) + bitext_rows("small-enc", MODELS["small-enc"]) + [INVARIANCE])
    b = results_file(d / "b.json", sts_rows("big-enc", MODELS["big-enc"]) + bitext_rows("big-enc", MODELS["big-enc"]), seed=3)
    return [a, b]


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_is_one_row_per_model_set_recipe_metric(two_files, tmp_path):
    out = build_report(two_files, tmp_path / "r", formats=["csv"])
    assert set(out) == {"csv"}
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.csv"]  # no md, html or plots asked
    rows = read_csv(out["csv"])
    assert list(rows[0]) == NAMES
    # per model: 2 languages x (clean + 2 recipes) sts + (clean + 2 recipes) bitext; invariance: 3 metrics
    assert len(rows) == 2 * (2 * 3 + 3) + 3
    keys = [(r["model"], r["task"], r["lang"], r["recipe"], r["metric"]) for r in rows]
    assert len(set(keys)) == len(keys)
    row = next(r for r in rows if r["model"] == "small-enc" and r["task"] == "sts" and r["lang"] == "hau" and r["recipe"] == "charnoise")
    assert (row["task"], row["metric"], row["n"], row["dataset"]) == ("sts", "spearman", "100", "semrel")
    assert float(row["clean"]) == 70.0 and float(row["clean_ci_lo"]) == 66.0 and float(row["clean_ci_hi"]) == 74.0
    assert float(row["perturbed"]) == pytest.approx(57.7) and float(row["drop"]) == pytest.approx(12.3)
    assert float(row["drop_ci_lo"]) == pytest.approx(8.1) and float(row["drop_ci_hi"]) == pytest.approx(16.0)
    assert float(row["changed_share"]) == 0.9 and float(row["edit_rate"]) == 0.1
    assert (row["source_file"], row["afroadv_version"], row["seed"]) == ("a.json", __version__, "0")
    assert row["label_preserved"] == "" and row["untrustworthy"] == ""  # not validated: empty, not invented
    clean = next(r for r in rows if r["model"] == "big-enc" and r["task"] == "bitext" and r["recipe"] == "clean")
    assert (clean["metric"], clean["clean"], clean["perturbed"], clean["drop"], clean["seed"]) == ("accuracy", "80.0", "", "", "3")
    margin = next(r for r in rows if r["task"] == "invariance" and r["metric"] == "margin")
    assert (float(margin["perturbed"]), float(margin["perturbed_ci_lo"]), margin["clean"]) == (0.681, 0.652, "")


def test_csv_drops_are_the_reports_drops(two_files, tmp_path):
    """The long table restates the report's numbers: every drop and CI shows in report.md as the table prints it."""
    out = build_report(two_files, tmp_path / "r", formats="md,csv")
    md = out["markdown"].read_text(encoding="utf-8")
    drops = [r for r in read_csv(out["csv"]) if r["drop"]]
    assert drops
    for r in drops:
        cell = with_ci(float(r["drop"]), (float(r["drop_ci_lo"]), float(r["drop_ci_hi"])))
        assert f"| {r['lang']} | {r['dataset']} | {r['recipe']} | {r['n']} |" in md and cell in md, cell


def test_parquet_holds_the_same_table_with_types(two_files, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = build_report(two_files, tmp_path / "r", formats=["csv", "parquet"])
    table = pq.read_table(out["parquet"])
    assert table.column_names == NAMES
    assert str(table.schema.field("drop").type) == "double" and str(table.schema.field("n").type) == "int64"
    assert str(table.schema.field("label_preserved").type) == "double"  # typed even when every value is null
    from_csv = read_csv(out["csv"])
    for got, want in zip(table.to_pylist(), from_csv):
        for name in ("model", "lang", "recipe", "metric"):
            assert got[name] == want[name]
        for name in ("clean", "drop", "drop_ci_hi", "perturbed"):
            assert got[name] == (float(want[name]) if want[name] else None)


def test_tables_are_byte_identical_across_runs(two_files, tmp_path):
    pytest.importorskip("pyarrow")
    a = build_report(two_files, tmp_path / "a", formats=["csv", "parquet"])
    b = build_report(two_files, tmp_path / "b", formats=["parquet,csv"])
    for key in ("csv", "parquet"):
        assert a[key].read_bytes() == b[key].read_bytes(), key


def test_default_formats_are_markdown_and_html_with_plots(two_files, tmp_path):
    out = build_report(two_files, tmp_path / "r")
    assert set(out) == {"markdown", "html", "drop_sts", "drop_bitext", "drop_vs_size"}
    assert not (tmp_path / "r" / "report.csv").exists()
    r = run_cli_here("report", *two_files, "--format", "html", "-f", "csv", "--out", tmp_path / "cli")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "cli").iterdir()) == [
        "drop_bitext.png", "drop_sts.png", "drop_vs_size.png", "report.csv", "report.html"]  # fmt: skip


@pytest.mark.parametrize("fmt", ["pdf", "md,xlsx", ","])
def test_bad_format_is_one_line_and_writes_nothing(two_files, tmp_path, fmt):
    r = run_cli_here("report", *two_files, "--format", fmt, "--out", tmp_path / "r")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("afroadv: error:") and r.stderr.count("\n") == 1 and "md, html, csv, parquet" in r.stderr
    assert not (tmp_path / "r").exists()
    with pytest.raises(AfroadvError, match="unknown report format"):
        build_report(two_files, tmp_path / "r", formats=["PDF"])


# ---------------------------------------------------------------------------------------------
# Files that are not results: say what they are


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Real afroadv outputs that are not evaluate results (a generated set; committed training,
    review and thresholds files), and the layouts of an attack and a sweep folder."""
    d = tmp_path_factory.mktemp("outputs")
    r = run_cli_here("generate", "--lang", "amh", "--recipe", "charnoise", "--limit", "5", "--out", d / "set.jsonl")
    assert r.returncode == 0, r.stderr
    attack = d / "attack"
    attack.mkdir()
    (attack / "adversarial.jsonl").write_bytes((d / "set.jsonl").read_bytes())
    (attack / "summary.json").write_text(json.dumps({"success_rate": 0.4, "files": {"adversarial": "adversarial.jsonl"}}), encoding="utf-8")
    sweep = d / "sweep"
    (sweep / "cells").mkdir(parents=True)
    results_file(sweep / "results.json", GOOD)
    return d


GOOD = sts_rows("m", 1000)


@pytest.mark.parametrize("path,says", [
    ("{d}/set.jsonl", "{d}/set.jsonl is a generated set, not evaluate results: run `afroadv evaluate --sets {d}/set.jsonl"),
    ("{d}/set.manifest.json", "is the manifest of a generated set (set.jsonl), not evaluate results: run `afroadv evaluate --sets {d}/set.jsonl"),
    ("{d}/attack", "is an attack folder, not evaluate results: score its adversarial set with `afroadv evaluate --sets {d}/attack/adversarial.jsonl"),
    ("{d}/attack/summary.json", "is an attack summary, not evaluate results"),
    ("{d}/sweep", "is a sweep folder, not a results file: its merged results are {d}/sweep/results.json"),
    ("{root}/results/training/e5-small-plain.train.json", "is a training summary (`afroadv train`), not evaluate results"),
    ("{root}/results/validation/main/afr-charnoise.csv", "is a review sheet, not evaluate results"),
    ("{root}/baselines/thresholds.yaml", "thresholds for `afroadv check`"),
])  # fmt: skip
def test_a_non_results_file_is_named_for_what_it_is(outputs, tmp_path, path, says):
    path = path.format(d=outputs, root=ROOT)
    r = run_cli_here("report", path, "--out", tmp_path / "r")
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert r.stderr.startswith("afroadv: error:") and r.stderr.count("\n") == 1
    assert says.format(d=outputs, root=ROOT) in r.stderr
    assert "malformed JSON" not in r.stderr and not (tmp_path / "r").exists()


def test_the_real_entry_point_names_a_generated_set(outputs, tmp_path):
    r = run_cli("report", outputs / "set.jsonl", "--out", tmp_path / "r")
    assert r.returncode == 2 and "is a generated set" in r.stderr and "Traceback" not in r.stderr


# ---------------------------------------------------------------------------------------------
# Older results


@pytest.mark.skipif(not OLD.is_file(), reason="needs tests/data/older")
def test_older_results_are_reported_with_a_note(tmp_path):
    out = build_report([OLD], tmp_path / "r", formats="md,html,csv")
    md = out["markdown"].read_text(encoding="utf-8")
    assert f"> e5-small-plain-hau.json was written by afroadv 0.1.0; this is afroadv {__version__}." in md
    assert "drawn by that version's recipes" in md and "| e5-small-plain-hau.json | 0.1.0 | 6 |" in md
    # the file's own numbers (spearman 44.8782 clean; charnoise drop 3.6003 [0.8588, 6.2856])
    assert "| hau | semrel | clean | 603 | – | – | 44.9 [37.6, 51.5] |" in md
    assert "| hau | semrel | charnoise | 603 | 100.0% | 12.1% | 3.6 [0.9, 6.3] |" in md
    assert "written by afroadv 0.1.0" in out["html"].read_text(encoding="utf-8")
    assert {r["afroadv_version"] for r in read_csv(out["csv"])} == {"0.1.0"}
    # a current file alone gets no such note
    cur = build_report([results_file(tmp_path / "now.json", GOOD)], tmp_path / "now")["markdown"].read_text(encoding="utf-8")
    assert "written by afroadv" not in cur


@pytest.mark.skipif(not OLD.is_file(), reason="needs tests/data/older")
def test_check_and_sweep_still_compare_only_like_with_like():
    """load_results (used by `afroadv check` and the sweep's resume) keeps refusing other versions."""
    with pytest.raises(AfroadvError, match="written by afroadv 0.1.0"):
        load_results(OLD)
    assert len(load_results(OLD, older=True)) == 6


def test_newer_results_are_still_refused(tmp_path):
    newer = results_file(tmp_path / "new.json", GOOD, version="99.0.0")
    with pytest.raises(AfroadvError, match="written by afroadv 99.0.0"):
        build_report([newer], tmp_path / "r")


def test_check_names_a_generated_set_too(outputs):
    """`afroadv check` reads results through the same loader, so it says what the wrong file is as well."""
    r = run_cli_here("check", outputs / "set.jsonl", "--baseline", ROOT / "baselines" / "e5-small.json")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert f"{outputs / 'set.jsonl'} is a generated set, not evaluate results" in r.stderr
