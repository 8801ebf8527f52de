"""`afroadv validate`: review sheets (sample), scoring (Wilson CIs, Cohen / Fleiss kappa, manifest and
registry), the offline review page, and validation shown by evaluate and report. No model runs here."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

from afroadv import __version__
from afroadv.cli import main
from afroadv.errors import AfroadvError
from afroadv.validate import (
    SHEET_COLUMNS,
    cohen_kappa,
    fleiss_kappa,
    generator_key,
    lookup_validation,
    review_page,
    sample_sheet,
    wilson,
)
from afroadv.validate.sheet import allocate
from conftest import ROOT


def cli(*args) -> tuple[int, str, str]:
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    return e.value.code, out.getvalue(), err.getvalue()


def assert_one_line_error(result, *needles):
    code, _, err = result
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.fixture(autouse=True)
def private_registry(tmp_path, monkeypatch):
    """Never touch the shipped data/validation.json."""
    path = tmp_path / "registry.json"
    monkeypatch.setenv("AFROADV_VALIDATION_REGISTRY", str(path))
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A real `afroadv generate` set (shipped SemRel data, offline) and a second seed of it."""
    d = tmp_path_factory.mktemp("gen")
    for seed in (0, 1):
        code, _, err = cli("generate", "--lang", "hau", "--recipe", "charnoise", "--limit", "40", "--seed", seed,
                           "--out", d / f"hau-cn-{seed}.jsonl")  # fmt: skip
        assert code == 0, err
    return d


def copy_set(src_dir, tmp_path, name="hau-cn-0"):
    for suffix in (".jsonl", ".manifest.json"):
        shutil.copy(src_dir / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.jsonl"


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def fill(sheet, out, label, real, reviewer_column=None):
    """A reviewer's copy of `sheet`: label(i) / real(i) give row i's answers."""
    rows = read_csv(sheet)
    for i, r in enumerate(rows):
        r["label_preserved"], r["realistic"] = label(i), real(i)
        if reviewer_column:
            r["reviewer"] = reviewer_column
    cols = list(SHEET_COLUMNS) + (["reviewer"] if reviewer_column else [])
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return out


def synthetic_set(path, records, kind="generated-set"):
    """A set file with the generate schema and a minimal manifest (full control over the text)."""
    full = []
    for i, r in enumerate(records):
        base = {"id": f"x{i:03d}/charnoise/0", "source_id": f"x{i:03d}", "lang": "hau", "task": "sts", "recipe": "charnoise",
                "sentence1": "a", "sentence2": "b", "score": 0.5, "orig_sentence1": "a", "orig_sentence2": "c",
                "changed": True, "edit_rate": 0.1, "seed": 0}  # fmt: skip
        full.append({**base, **r})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in full), encoding="utf-8")
    manifest = {"afroadv_version": __version__, "kind": kind, "lang": "hau", "seed": 0, "lexicons": {},
                "recipe": {"name": "charnoise", "parameters": {"rate": 0.15}},
                "dataset": {"name": "mine", "split": "test", "limit": None}, "extra": {"kept": [1, 2]}}  # fmt: skip
    path.with_name(path.stem + ".manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Statistics against hand-computed and textbook values


def test_wilson_interval_against_hand_computed_values():
    # 8 of 10: p = .8, z² = 3.8415; centre = (.8 + .19207) / 1.38415 = .71674,
    # half = 1.95996 / 1.38415 * sqrt(.016 + .0096036) = .22658 -> [.4902, .9433]
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    lo, hi = wilson(0, 10)  # centre = half = .19207 / 1.38415 = .13877
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(10, 10)
    assert lo == pytest.approx(0.7225, abs=1e-4) and hi == 1
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_cohen_kappa_textbook_two_by_two_table():
    # yes/yes 20, yes/no 5, no/yes 10, no/no 15: po = 35/50 = .7; A says yes 25/50, B 30/50:
    # pe = .5 * .6 + .5 * .4 = .5 -> kappa = (.7 - .5) / (1 - .5) = .4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert cohen_kappa(["yes"] * 5, ["yes"] * 5) is None  # chance agreement 1: undefined, not NaN
    assert cohen_kappa([], []) is None


def test_fleiss_kappa_on_the_textbook_example():
    # Fleiss (1971) as worked on Wikipedia: 10 items, 14 raters, 5 categories; P = .378, Pe = .213, kappa = .210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None
    with pytest.raises(ValueError):
        fleiss_kappa([[3, 0], [2, 0]])


def test_allocation_is_proportional_with_one_per_stratum():
    # one each, then 5 more in proportion to what is left (9, 4, 0 of 13): 3.46 / 1.54 / 0 -> 3 + 1 + 0,
    # and the last one to the largest remainder (b: 20 % 13 = 7 beats a: 45 % 13 = 6)
    assert allocate({"a": 10, "b": 5, "c": 1}, 8) == {"a": 4, "b": 3, "c": 1}
    assert allocate({"a": 10, "b": 5, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}  # too few for every stratum: largest first
    assert allocate({"a": 2, "b": 1}, 50) == {"a": 2, "b": 1}
    assert sum(allocate({"a": 7, "b": 11, "c": 13, "d": 2}, 17).values()) == 17


# ---------------------------------------------------------------------------------------------
# sample


def test_sample_writes_a_deterministic_stratified_sheet_of_changed_pairs(generated, tmp_path):
    a, b, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    code, out, err = cli("validate", "sample", generated / "hau-cn-0.jsonl", "--n", 12, "--seed", 5, "--out", a)
    assert code == 0, err
    assert "wrote 12 pairs" in out
    assert cli("validate", "sample", generated / "hau-cn-0.jsonl", "--n", 12, "--seed", 5, "--out", b)[0] == 0
    assert cli("validate", "sample", generated / "hau-cn-0.jsonl", "--n", 12, "--seed", 6, "--out", other)[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != other.read_bytes()
    text = a.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(SHEET_COLUMNS)
    rows = read_csv(a)
    records = {r["id"]: r for r in map(json.loads, (generated / "hau-cn-0.jsonl").read_text(encoding="utf-8").splitlines())}
    assert len(rows) == 12 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    for row in rows:
        rec = records[row["id"]]
        assert rec["changed"]
        for c in ("orig_sentence1", "orig_sentence2", "sentence1", "sentence2"):
            assert row[c] == rec[c]  # exact text through CSV quoting
        assert float(row["score"]) == rec["score"]
        assert row["label_preserved"] == row["realistic"] == row["note"] == ""
    # every edit-rate tercile is represented
    rates = sorted(r["edit_rate"] for r in records.values() if r["changed"])
    cuts = (rates[len(rates) // 3], rates[2 * len(rates) // 3])
    assert {sum(records[r["id"]]["edit_rate"] >= c for c in cuts) for r in rows} == {0, 1, 2}


def test_sample_across_sets_keeps_text_byte_exact_and_skips_unchanged(tmp_path):
    tricky = ['say "hi", then\nleave', "ሰላም ነው።", "مرحبا بكم", "ẹ̀ n̄ o\u0301", "<b>&amp;</b> 'x'"]
    one = synthetic_set(tmp_path / "one.jsonl", [{"sentence1": t, "orig_sentence1": t + "!"} for t in tricky]
                        + [{"changed": False, "sentence1": "a"}])  # fmt: skip
    two = synthetic_set(tmp_path / "two.jsonl", [{"id": f"y{i}", "recipe": "codeswitch", "edit_rate": i / 10} for i in range(4)])
    rows = sample_sheet([one, two], n=100, seed=0)
    assert len(rows) == len(tricky) + 4  # n larger than the changed records: all of them, none unchanged
    assert [r["sentence1"] for r in rows[: len(tricky)]] == tricky  # NFD marks, Ge'ez, Arabic untouched
    out = tmp_path / "s.csv"
    assert cli("validate", "sample", one, two, "--n", 100, "--out", out)[0] == 0
    assert [r["sentence1"] for r in read_csv(out)][: len(tricky)] == tricky


def test_sample_errors_exit_2_with_one_line_and_no_output(tmp_path):
    good = synthetic_set(tmp_path / "good.jsonl", [{}] * 3)
    unchanged = synthetic_set(tmp_path / "same.jsonl", [{"changed": False}] * 3)
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"sentence1": "a", "sentence2": "b", "score": 1}\n', encoding="utf-8")
    (tmp_path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    cases = [
        ([tmp_path / "nope.jsonl"], "--n", "1", "not found"),
        ([foreign], "--n", "1", "missing id"),
        ([good], "--n", "0", "--n must be at least 1"),
        ([unchanged], "--n", "5", "no changed records"),
    ]
    for sets, opt, val, message in cases:
        out = tmp_path / "sheet.csv"
        assert_one_line_error(cli("validate", "sample", *sets, opt, val, "--out", out), message)
        assert not out.exists()
    out = tmp_path / "blocker" / "sheet.csv"
    assert_one_line_error(cli("validate", "sample", good, "--out", out), "cannot")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert_one_line_error(cli("validate", "sample", good, "--out", folder), "cannot write")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


# ---------------------------------------------------------------------------------------------
# score


def test_two_reviewers_rates_wilson_and_cohen_written_into_the_manifest(generated, tmp_path):
    set_path = copy_set(generated, tmp_path)
    before = json.loads(set_path.with_name("hau-cn-0.manifest.json").read_text(encoding="utf-8"))
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", set_path, "--n", 10, "--out", sheet)[0] == 0
    # ana: label no on rows 0-1 (8/10 yes); realistic yes except row 0 (with 'Y'/'n' spellings)
    ana = fill(sheet, tmp_path / "ana.csv", lambda i: "no" if i < 2 else "Yes", lambda i: "n" if i == 0 else "Y")
    # bello: label no on rows 0 and 9, row 5 unsure; realistic always yes
    bello = fill(sheet, tmp_path / "bello.csv", lambda i: "no" if i in (0, 9) else ("?" if i == 5 else "yes"), lambda i: "yes")
    code, out, err = cli("validate", "score", ana, bello, "--set", set_path)
    assert code == 0, err
    manifest = json.loads(set_path.with_name("hau-cn-0.manifest.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in manifest.items() if k != "validation"} == before  # every other field kept
    v = manifest["validation"]
    # label: ana 8 yes / 2 no, bello 7 yes / 2 no / 1 unsure -> 15 of 19
    assert v["n"] == 19 and v["label_preserved"] == round(15 / 19, 4)
    assert v["label_preserved_ci"] == [round(x, 4) for x in wilson(15, 19)]
    assert v["realistic"] == round(19 / 20, 4) and v["n_realistic"] == 20
    assert v["unsure"] == {"label_preserved": 1, "realistic": 0}
    assert v["reviewers"] == ["ana", "bello"] and v["n_records"] == 10
    assert [s["file"] for s in v["sheets"]] == ["ana.csv", "bello.csv"] and all(len(s["sha256"]) == 64 for s in v["sheets"])
    # label on the 9 rows both answered (row 5 left out): they agree on rows 0, 2-4, 6-8 (7 of 9),
    # disagree on rows 1 and 9; each says yes on 7 of 9: pe = (7/9)² + (2/9)² = 53/81
    a = v["agreement"]
    assert a["method"] == "cohen" and a["label_preserved"]["n_common"] == 9
    pe = 53 / 81
    assert a["label_preserved"]["kappa"] == round((7 / 9 - pe) / (1 - pe), 4)
    assert a["label_preserved"]["raw_agreement"] == round(7 / 9, 4)
    # realistic: bello always yes -> kappa 0 (observed = expected), defined
    assert a["realistic"]["kappa"] == 0.0 and a["realistic"]["n_common"] == 10
    assert "Cohen's kappa" in out and "label preserved 79.0% [56.7%, 91.5%] (n=19)" in out and "not trustworthy" in out


def test_three_reviewers_use_fleiss_and_undefined_kappa_is_null_not_nan(tmp_path):
    set_path = synthetic_set(tmp_path / "s.jsonl", [{}] * 6)
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", set_path, "--n", 6, "--out", sheet)[0] == 0
    pattern = {"r1": "yyyyyn", "r2": "yyyynn", "r3": "yyynnn"}
    sheets = [fill(sheet, tmp_path / f"{name}.csv", lambda i, p=p: p[i], lambda i: "yes") for name, p in pattern.items()]
    code, out, err = cli("validate", "score", *sheets, "--set", set_path)
    assert code == 0, err
    text = set_path.with_name("s.manifest.json").read_text(encoding="utf-8")
    assert "NaN" not in text
    v = json.loads(text)["validation"]
    a = v["agreement"]
    # items (yes, no): 3-0, 3-0, 3-0, 2-1, 1-2, 0-3; P_i = 1,1,1,1/3,1/3,1 -> P = 14/18;
    # p_yes = 12/18, p_no = 6/18 -> Pe = 5/9; kappa = (7/9 - 5/9) / (4/9) = .5
    assert a["method"] == "fleiss" and a["reviewers"] == 3
    assert a["label_preserved"]["kappa"] == 0.5 and a["label_preserved"]["n_common"] == 6
    assert a["label_preserved"]["raw_agreement"] == round(4 / 6, 4)
    assert a["realistic"] == {"kappa": None, "n_common": 6, "raw_agreement": 1.0}  # everyone always yes
    assert v["realistic"] == 1.0 and "undefined" in out and "Fleiss' kappa" in out


def test_reviewer_column_names_reviewers_and_one_reviewer_has_no_agreement(tmp_path):
    set_path = synthetic_set(tmp_path / "s.jsonl", [{}] * 4)
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", set_path, "--n", 4, "--out", sheet)[0] == 0
    solo = fill(sheet, tmp_path / "copy.csv", lambda i: "yes", lambda i: "" if i else "no", reviewer_column="Amina")
    assert cli("validate", "score", solo, "--set", set_path)[0] == 0
    v = json.loads(set_path.with_name("s.manifest.json").read_text(encoding="utf-8"))["validation"]
    assert v["reviewers"] == ["Amina"] and v["agreement"] is None
    assert v["n"] == 4 and v["n_realistic"] == 1 and v["realistic"] == 0.0


def test_sheets_saved_by_spreadsheets_are_read(tmp_path):
    """A BOM and ';' separators (some locales' 'CSV') are how spreadsheets save; answers in any case."""
    from afroadv.validate import read_sheet

    sheet = tmp_path / "Zainab.csv"
    sheet.write_bytes("\ufeffid;label_preserved;realistic;note\nx1;YES;?;\"a; b\"\nx2;n;;\n".encode("utf-8"))
    got = [(j.reviewer, j.id, j.label_preserved, j.realistic) for j in read_sheet(sheet)]
    assert got == [("Zainab", "x1", "yes", "unsure"), ("Zainab", "x2", "no", None)]


def test_score_errors_exit_2_with_one_line_and_leave_the_manifest_alone(tmp_path):
    set_path = synthetic_set(tmp_path / "s.jsonl", [{}] * 3)
    manifest = set_path.with_name("s.manifest.json")
    before = manifest.read_bytes()
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", set_path, "--n", 3, "--out", sheet)[0] == 0
    bad_value = fill(sheet, tmp_path / "bad.csv", lambda i: "maybe" if i == 1 else "yes", lambda i: "yes")
    stranger = tmp_path / "stranger.csv"
    stranger.write_text(sheet.read_text(encoding="utf-8").replace("x001/charnoise/0", "zz/9"), encoding="utf-8")
    blank = tmp_path / "blank.csv"
    shutil.copy(sheet, blank)
    no_cols = tmp_path / "nocols.csv"
    no_cols.write_text("id,note\nx000/charnoise/0,\n", encoding="utf-8")
    lone = synthetic_set(tmp_path / "lone.jsonl", [{}] * 3)
    lone.with_name("lone.manifest.json").unlink()
    good = fill(sheet, tmp_path / "good.csv", lambda i: "yes", lambda i: "yes")
    cases = [
        ([bad_value, "--set", set_path], ["bad.csv", "x001/charnoise/0", "label_preserved", "'maybe'"]),
        ([stranger, "--set", set_path], ["zz/9", "not a record"]),
        ([blank, "--set", set_path], ["no judgments"]),
        ([no_cols, "--set", set_path], ["missing column label_preserved, realistic"]),
        ([tmp_path / "nope.csv", "--set", set_path], ["sheet not found"]),
        ([good, "--set", tmp_path / "nope.jsonl"], ["set file not found"]),
        ([good, good, "--set", set_path], ["judged x000/charnoise/0 twice"]),
        ([good, "--set", lone], ["no lone.manifest.json"]),
    ]
    for args, needles in cases:
        assert_one_line_error(cli("validate", "score", *args), *needles)
    assert manifest.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# registry, evaluate and report


def test_register_round_trip_and_lookup_by_evaluates_in_memory_route(generated, tmp_path, private_registry):
    from afroadv.evaluate import build_sets, format_table, read_sets

    set_path = copy_set(generated, tmp_path)
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", set_path, "--n", 8, "--out", sheet)[0] == 0
    ana = fill(sheet, tmp_path / "ana.csv", lambda i: "yes", lambda i: "no" if i == 3 else "yes")
    code, out, err = cli("validate", "score", ana, "--set", set_path, "--register")
    assert code == 0, err
    assert "registered in" in out
    manifest = json.loads(set_path.with_name("hau-cn-0.manifest.json").read_text(encoding="utf-8"))
    registry = json.loads(private_registry.read_text(encoding="utf-8"))
    (entry,) = registry["entries"]
    assert entry["key"] == generator_key(manifest) and entry["validation"] == manifest["validation"]
    assert {k: entry[k] for k in ("lang", "recipe", "dataset", "split", "afroadv_version")} == {
        "lang": "hau", "recipe": "charnoise", "dataset": "semrel", "split": "test", "afroadv_version": __version__}
    # a validation belongs to the generator: another seed's set has the same key
    other = json.loads((generated / "hau-cn-1.manifest.json").read_text(encoding="utf-8"))
    assert generator_key(other) == entry["key"] and lookup_validation(other) == manifest["validation"]
    assert lookup_validation(dict(other, lang="kin")) is None
    # registering again replaces the entry; the file is byte-stable
    first = private_registry.read_bytes()
    assert cli("validate", "score", ana, "--set", set_path, "--register")[0] == 0
    assert private_registry.read_bytes() == first
    # evaluate's in-memory sets (no manifest) find it by the same key; so do files of the same generator
    (s,) = build_sets("hau", ["charnoise"], None, "test", 7, 10)
    expected = {k: manifest["validation"][k] for k in ("label_preserved", "label_preserved_ci", "realistic", "realistic_ci", "n")}
    assert s.validation == expected
    assert read_sets([generated / "hau-cn-1.jsonl"])[0].validation == expected
    assert build_sets("hau", ["keyboard"], None, "test", 0, 10)[0].validation is None
    doc = {"results": [{"model": "m", "lang": "hau", "dataset": "semrel", "task": "sts", "recipe": "charnoise", "n": 10,
                        "spearman": 40.0, "drop": 2.0, "drop_ci": [0.5, 3.5], "validation": expected}]}  # fmt: skip
    assert "valid 100%" in format_table(doc) and "!" not in format_table(doc)


def test_evaluate_rows_carry_the_registered_validation(generated, tmp_path, private_registry, module_cache):
    """End to end through `evaluate` on the tiny random test model (no real model): the perturbed row of an
    in-memory set carries its generator's registered validation; the clean row carries none."""
    pytest.importorskip("torch")
    from afroadv.evaluate import build_sets, evaluate, format_table
    from afroadv.validate import register_validation

    low = {"label_preserved": 0.5, "label_preserved_ci": [0.3, 0.7], "realistic": 0.9, "realistic_ci": [0.7, 0.97], "n": 20,
           "reviewers": ["a"], "agreement": None}  # fmt: skip
    manifest = json.loads((generated / "hau-cn-0.manifest.json").read_text(encoding="utf-8"))
    register_validation(manifest, low, private_registry)
    doc = evaluate(["tiny-xlmr"], build_sets("hau", ["charnoise"], None, "test", 0, 12), n_boot=50, quiet=True)
    clean, pert = doc["results"]
    assert "validation" not in clean
    assert pert["validation"] == {k: low[k] for k in ("label_preserved", "label_preserved_ci", "realistic", "realistic_ci", "n")}
    table = format_table(doc)
    assert "valid 50%!" in table and table.splitlines()[-1].startswith("! ")


def test_register_refuses_attack_sets_and_a_broken_registry_before_writing(tmp_path, private_registry):
    attack = synthetic_set(tmp_path / "adv.jsonl", [{}] * 2, kind="attack-set")
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", attack, "--n", 2, "--out", sheet)[0] == 0
    ana = fill(sheet, tmp_path / "ana.csv", lambda i: "yes", lambda i: "yes")
    manifest = attack.with_name("adv.manifest.json")
    before = manifest.read_bytes()
    assert_one_line_error(cli("validate", "score", ana, "--set", attack, "--register"), "afroadv generate")
    assert manifest.read_bytes() == before and not private_registry.exists()
    assert cli("validate", "score", ana, "--set", attack)[0] == 0  # without --register it is fine
    plain = synthetic_set(tmp_path / "p.jsonl", [{}] * 2)
    private_registry.write_text("{broken", encoding="utf-8")
    sheet2 = fill(sheet, tmp_path / "p.csv", lambda i: "yes", lambda i: "yes")
    before = plain.with_name("p.manifest.json").read_bytes()
    assert_one_line_error(cli("validate", "score", sheet2, "--set", plain, "--register"), "registry")
    assert plain.with_name("p.manifest.json").read_bytes() == before


def test_evaluate_table_marks_sets_under_90_percent():
    from afroadv.evaluate import format_table

    row = {"model": "m", "lang": "hau", "dataset": "semrel", "task": "sts", "n": 10, "spearman": 40.0}
    low = {"label_preserved": 0.85, "label_preserved_ci": [0.7, 0.93], "realistic": 0.6, "realistic_ci": [0.4, 0.7], "n": 40}
    doc = {"results": [dict(row, recipe="clean"),
                       dict(row, recipe="charnoise", drop=2.0, drop_ci=[0.5, 3.5], validation=low),
                       dict(row, recipe="keyboard", drop=1.0, drop_ci=[0.1, 2.0], validation=None),
                       dict(row, recipe="lexsub", drop=1.0, drop_ci=[0.1, 2.0])]}  # fmt: skip
    lines = format_table(doc).splitlines()
    assert "valid" not in lines[0]
    assert lines[1].endswith("valid 85%!") and lines[2].endswith("valid –") and lines[3].endswith("valid –")
    assert lines[-1].startswith("! ") and "90%" in lines[-1]


def _results(path, rows):
    path.write_text(json.dumps({"afroadv_version": __version__, "kind": "evaluation-results", "manifest": {"seed": 0},
                                "results": rows}), encoding="utf-8")  # fmt: skip
    return path


def test_report_shows_validation_beside_drops_and_flags_untrustworthy_sets(tmp_path):
    pytest.importorskip("matplotlib")
    from afroadv.report import build_report

    base = {"model": "m", "model_params": 1000, "lang": "hau", "dataset": "semrel", "task": "sts", "n": 50}
    rows = [dict(base, recipe="clean", spearman=40.0, spearman_ci=[30.0, 50.0]),
            dict(base, recipe="charnoise", spearman=38.0, drop=2.0, drop_ci=[0.5, 3.5], edit_rate=0.1, changed_share=1.0,
                 validation={"label_preserved": 0.8, "label_preserved_ci": [0.6512, 0.8953], "realistic": 0.95,
                             "realistic_ci": [0.8, 0.99], "n": 40}),
            dict(base, recipe="keyboard", spearman=39.0, drop=1.0, drop_ci=[0.1, 2.0], edit_rate=0.1, changed_share=1.0,
                 validation={"label_preserved": 0.975, "label_preserved_ci": [0.87, 0.996], "realistic": None,
                             "realistic_ci": None, "n": 40}),
            dict(base, recipe="lexsub", spearman=39.0, drop=1.0, drop_ci=[0.1, 2.0], edit_rate=0.1, changed_share=1.0)]  # fmt: skip
    out = build_report([_results(tmp_path / "r.json", rows)], tmp_path / "rep")
    md = out["markdown"].read_text(encoding="utf-8")
    assert "| hau | semrel | charnoise | 50 | 100.0% | 10.0% | 2.0 [0.5, 3.5] ! |" in md
    assert "| hau | semrel | keyboard | 50 | 100.0% | 10.0% | 1.0 [0.1, 2.0] |" in md
    assert "## Validation" in md
    assert ("| charnoise | hau | semrel | 80.0% [65.1, 89.5] | 95.0% [80.0, 99.0] | 40 | "
            "not trustworthy: the generator changes meaning in 20.0% of pairs |") in md
    assert "| keyboard | hau | semrel | 97.5% [87.0, 99.6] | – | 40 | ok |" in md
    assert "| lexsub | hau | semrel | – | – | – | not validated |" in md
    assert "not trustworthy: the generator changes meaning in 20.0% of pairs" in out["html"].read_text(encoding="utf-8")
    old = build_report([_results(tmp_path / "old.json", [rows[0], rows[3]])], tmp_path / "rep2")
    assert "No set in these results has been validated" in old["markdown"].read_text(encoding="utf-8")


@pytest.mark.parametrize("bad,message", [
    ("yes", "validation must be an object"),
    ({"label_preserved": 1.5, "n": 3}, "validation.label_preserved must be a rate"),
    ({"label_preserved": 0.5, "label_preserved_ci": [0.1], "n": 3}, "label_preserved_ci must be [lo, hi]"),
    ({"label_preserved": 0.5, "n": -1}, "validation.n must be a non-negative integer"),
])  # fmt: skip
def test_report_rejects_a_malformed_validation_in_one_line(tmp_path, bad, message):
    from afroadv.report import load_results

    row = {"model": "m", "lang": "hau", "dataset": "semrel", "task": "sts", "recipe": "charnoise", "n": 5,
           "spearman": 1.0, "drop": 1.0, "validation": bad}  # fmt: skip
    with pytest.raises(AfroadvError) as e:
        load_results(_results(tmp_path / "bad.json", [row]))
    assert message in str(e.value) and "results[0]" in str(e.value) and "\n" not in str(e.value)


# ---------------------------------------------------------------------------------------------
# the review page


TRICKY = ['<script>alert("x")</script> & \'q\'', "ሰላም ነው። ልጆች", "مرحبا بكم في «البيت»", "ọ̀nà n\u0301 e\u0301", 'a, "b"\nc']


def tricky_sheet(tmp_path):
    recs = [{"sentence1": t, "orig_sentence1": t.replace("a", "o", 1) + " x", "id": f"t{i}</section>"} for i, t in enumerate(TRICKY)]
    set_path = synthetic_set(tmp_path / "t.jsonl", recs)
    sheet = tmp_path / "sheet.csv"
    assert cli("validate", "sample", set_path, "--n", 10, "--out", sheet)[0] == 0
    return sheet


def test_review_page_embeds_every_row_escaped_and_offline(tmp_path):
    sheet = tricky_sheet(tmp_path)
    out = tmp_path / "review.html"
    code, _, err = cli("validate", "page", sheet, "--out", out)
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "localStorage" in page and "Download sheet" in page
    import html as html_lib

    for row in read_csv(sheet):
        assert f'data-id="{html_lib.escape(row["id"])}"' in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("</section>") == len(TRICKY)  # the id's '</section>' never closes an element
    assert page.count("<script") == page.count("</script>") == 4
    assert "ሰላም ነው። ልጆች" in page and "مرحبا" in page and "n\u0301" in page
    assert "<mark>" in page and 'dir="auto"' in page
    for bad in ("http://", "https://", "<link", "src=", "@import"):
        assert bad not in page
    no_cols = tmp_path / "nocols.csv"
    no_cols.write_text("id,label_preserved,realistic\nx,,\n", encoding="utf-8")
    bad_answer = tmp_path / "bad.csv"
    bad_answer.write_text(sheet.read_text(encoding="utf-8").replace(",,,\n", ",maybe,,\n", 1), encoding="utf-8")
    for bad_sheet, needle in ((no_cols, "missing column"), (bad_answer, "'maybe'"), (tmp_path / "nope.csv", "not found")):
        target = tmp_path / "r2.html"
        assert_one_line_error(cli("validate", "page", bad_sheet, "--out", target), needle)
        assert not target.exists()


def test_review_page_download_is_exactly_the_sheet_format(tmp_path):
    """Run the page's own script under node with a stub DOM: the CSV it downloads for a sheet it did not
    change must be byte-identical to the sheet, and `validate score` must read a filled one."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    sheet = tricky_sheet(tmp_path)
    page = review_page(sheet)
    blocks = dict(re_findall_scripts(page))
    stub = """
const data = %s;
const el = (text) => ({textContent: text, value: "", addEventListener() {}, querySelectorAll: () => []});
global.document = {getElementById: (id) => el(data[id] || ""), querySelectorAll: () => []};
global.window = {}; global.localStorage = {getItem: () => null, setItem() {}};
%s
process.stdout.write(window.afroadvReviewCsv());
""" % (json.dumps({k: v for k, v in blocks.items() if k}), blocks[""])
    r = subprocess.run([node, "-e", stub], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == sheet.read_bytes()


def re_findall_scripts(page):
    import re

    for m in re.finditer(r'<script(?: type="application/json" id="([a-z]+)")?>(.*?)</script>', page, re.S):
        yield (m.group(1) or "", m.group(2))


def test_importing_validate_stays_light():
    code = ("import sys, afroadv.validate\n"
            "heavy = [m for m in ('torch', 'numpy', 'afroadv.perturb', 'afroadv.generate', 'pyarrow') if m in sys.modules]\n"
            "assert not heavy, heavy\n")  # fmt: skip
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
