"""Bad input, every command: exit 2, one `afroadv: error: …` line naming the problem, no traceback,
nothing written. Plus file faults, sets written as one unit with their manifest, strict JSON, and
a fuzz test of the dataset readers."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli_here

from afroadv.cli import main
from afroadv.errors import AfroadvError


def cli(*args) -> tuple[int, str, str]:
    """The CLI in this process: (exit code, stdout, stderr)."""
    r = run_cli_here(*args)
    return r.returncode, r.stdout, r.stderr


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """Input files, good and bad, in a folder of their own (outputs go elsewhere)."""
    d = tmp_path_factory.mktemp("inputs")
    code, _, err = cli("generate", "--lang", "hau", "--recipe", "charnoise", "--limit", "5", "--out", d / "set.jsonl")
    assert code == 0, err
    (d / "bad.json").write_text('{"results": [', encoding="utf-8")
    (d / "nan.csv").write_text("sentence1,sentence2,score\nA b,C d,nan\n", encoding="utf-8")
    (d / "neg.csv").write_text("sentence1,sentence2,score\nA b,C d,-1\n", encoding="utf-8")
    (d / "big.csv").write_text("sentence1,sentence2,score\nA b,C d,7.5\n", encoding="utf-8")
    (d / "semrel_big.csv").write_text('PairID,Text,Score\np1,"A b\nC d",1.5\n', encoding="utf-8")
    (d / "dup.csv").write_text("id,sentence1,sentence2,score\nx,A b,C d,0.5\nx,E f,G h,0.2\n", encoding="utf-8")
    (d / "empty.csv").write_text("sentence1,sentence2,score\n ,C d,0.5\n", encoding="utf-8")
    (d / "nocol.csv").write_text("text,score\nA b,0.5\n", encoding="utf-8")
    (d / "latin1.csv").write_bytes("sentence1,sentence2,score\nGar\xe7on b,C d,0.5\n".encode("latin-1"))
    (d / "recipe_type.yaml").write_text("name: x\ndescription: d\ntransformations: 5\n", encoding="utf-8")
    (d / "recipe_weight.yaml").write_text("name: x\ndescription: d\ntransformations:\n  - kind: char_swap\n    weight: abc\n", encoding="utf-8")
    (d / "recipe_zero.yaml").write_text("name: x\ndescription: d\ntransformations:\n  - kind: char_swap\n    weight: 0\n", encoding="utf-8")
    (d / "recipe_params.yaml").write_text("name: x\ndescription: d\ntransformations:\n  - kind: char_swap\n    params: hello\n", encoding="utf-8")
    (d / "recipe_latin1.yaml").write_bytes("name: x\ndescription: caf\xe9\ntransformations: []\n".encode("latin-1"))
    (d / "sheet.csv").write_text("id,label_preserved,realistic\nnot-a-record,yes,yes\n", encoding="utf-8")
    (d / "a_folder").mkdir()
    return d


# (what, args, words the one line must contain); {in} = the inputs folder, {out} = an empty output folder
CASES = [
    # usage errors (click/typer): never a traceback
    ("unknown command", ["bogus"], "No such command"),
    ("missing option", ["generate", "--lang", "hau"], "Missing option '--recipe'"),
    ("unknown option", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--bogus", "1"], "No such option"),
    ("seed not a number", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--seed", "abc"], "--seed"),
    ("limit not a number", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--limit", "ten"], "--limit"),
    ("train seed not a number", ["train", "--model", "tiny-xlmr", "--out", "{out}/m", "--seed", "x"], "--seed"),
    ("attack bad int", ["attack", "--model", "tiny-xlmr", "--lang", "hau", "--out", "{out}/a", "--limit", "ten"], "--limit"),
    # option values
    ("negative seed", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--seed", "-1"], "--seed"),
    ("huge seed", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--seed", str(2**70)], "--seed"),
    ("limit 0", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--limit", "0"], "--limit"),
    ("limit -1", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--limit", "-1"], "--limit"),
    ("rate 0", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--rate", "0"], "--rate 0"),
    ("rate nan", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--rate", "nan"], "--rate"),
    ("rate 2", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--rate", "2"], "--rate"),
    ("bad sides", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.jsonl", "--sides", "left"], "sides"),
    ("bootstrap 0", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--bootstrap", "0"], "--bootstrap"),
    ("batch size 0", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--batch-size", "0"], "--batch-size"),
    ("batch size -1", ["sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "charnoise", "--out", "{out}/sw", "--batch-size", "-1"], "--batch-size"),
    ("threads 0", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--threads", "0"], "--threads"),
    ("bogus device", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/r.json", "--device", "bogus"], "device"),
    ("workers 0", ["sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "charnoise", "--out", "{out}/sw", "--backend", "dask", "--workers", "0"], "--workers"),
    ("min-count 0", ["lexicon", "induce", "--src", "{in}/nan.csv", "--eng", "{in}/nan.csv", "--out", "{out}/l.tsv", "--min-count", "0"], "--min-count"),
    ("sample n 0", ["validate", "sample", "{in}/set.jsonl", "--n", "0", "--out", "{out}/s.csv"], "--n"),
    ("sample seed -3", ["validate", "sample", "{in}/set.jsonl", "--seed", "-3", "--out", "{out}/s.csv"], "--seed"),
    ("threshold nan", ["check", "{in}/set.manifest.json", "--baseline", "{in}/set.manifest.json", "--max-drop-increase", "nan"], "--max-drop-increase"),
    # unknown names
    ("unknown language", ["generate", "--lang", "xx", "--recipe", "charnoise", "--out", "{out}/x.jsonl"], "xx"),
    ("unknown recipe", ["generate", "--lang", "hau", "--recipe", "nope", "--out", "{out}/x.jsonl"], "nope"),
    ("unknown model folder", ["evaluate", "--sets", "{in}/set.jsonl", "--model", "{in}/no-model", "--out", "{out}/r.json"], "no-model"),
    # data
    ("NaN score", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/nan.csv", "--out", "{out}/x.jsonl"], "score"),
    ("negative score", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/neg.csv", "--out", "{out}/x.jsonl"], "outside the gold scale"),
    ("score 7.5", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/big.csv", "--out", "{out}/r.json"], "outside the gold scale"),
    ("SemRel score 1.5", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/semrel_big.csv", "--out", "{out}/x.jsonl"], "0–1"),
    ("duplicate ids", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/dup.csv", "--out", "{out}/x.jsonl"], "duplicate pair id"),
    ("empty sentence", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/empty.csv", "--out", "{out}/x.jsonl"], "empty sentence"),
    ("missing columns", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/nocol.csv", "--out", "{out}/x.jsonl"], "missing column"),
    ("not UTF-8", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/latin1.csv", "--out", "{out}/x.jsonl"], "not UTF-8"),
    ("dataset file missing", ["generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", "{in}/none.csv", "--out", "{out}/x.jsonl"], "not found"),
    ("malformed results", ["report", "{in}/bad.json", "--out", "{out}/rep"], "malformed JSON"),
    ("missing results", ["report", "{in}/none.json", "--out", "{out}/rep"], "none.json"),
    ("sheet id not in set", ["validate", "score", "{in}/sheet.csv", "--set", "{in}/set.jsonl"], "not-a-record"),
    # recipe files
    ("recipe transformations not a list", ["generate", "--lang", "hau", "--recipe", "{in}/recipe_type.yaml", "--out", "{out}/x.jsonl"], "`transformations` must be a list"),
    ("recipe weight not a number", ["generate", "--lang", "hau", "--recipe", "{in}/recipe_weight.yaml", "--out", "{out}/x.jsonl"], "`weight`"),
    ("recipe weight 0", ["generate", "--lang", "hau", "--recipe", "{in}/recipe_zero.yaml", "--out", "{out}/x.jsonl"], "`weight`"),
    ("recipe params not a mapping", ["generate", "--lang", "hau", "--recipe", "{in}/recipe_params.yaml", "--out", "{out}/x.jsonl"], "`params`"),
    ("recipe not UTF-8", ["generate", "--lang", "hau", "--recipe", "{in}/recipe_latin1.yaml", "--out", "{out}/x.jsonl"], "not UTF-8"),
    # destinations
    ("output is a folder", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{in}/a_folder"], "is a folder"),
    ("output suffix", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{out}/x.txt"], ".jsonl or .parquet"),
    ("results path is a folder", ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", "{in}/a_folder"], "is a folder"),
    ("folder under a file", ["generate", "--lang", "hau", "--recipe", "charnoise", "--out", "{in}/nan.csv/x.jsonl"], "nan.csv"),
    ("report folder is a file", ["report", "{in}/bad.json", "--out", "{in}/nan.csv"], "nan.csv"),
    ("sweep folder is a file", ["sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "charnoise", "--out", "{in}/nan.csv"], "nan.csv"),
    ("lexicon output is a folder", ["lexicon", "induce", "--src", "{in}/nan.csv", "--eng", "{in}/nan.csv", "--out", "{in}/a_folder"], "is a folder"),
    ("train output is a file", ["train", "--model", "tiny-xlmr", "--out", "{in}/nan.csv"], "nan.csv"),
    ("train negative seed", ["train", "--model", "tiny-xlmr", "--out", "{out}/m", "--seed", "-1"], "--seed"),
    ("attack negative score", ["attack", "--model", "tiny-xlmr", "--lang", "hau", "--dataset", "{in}/neg.csv", "--out", "{out}/a"], "outside the gold scale"),
    ("attack duplicate ids", ["attack", "--model", "tiny-xlmr", "--lang", "hau", "--dataset", "{in}/dup.csv", "--out", "{out}/a"], "duplicate pair id"),
    ("sweep score 7.5", ["sweep", "--models", "tiny-xlmr", "--langs", "hau", "--recipes", "charnoise", "--dataset", "{in}/big.csv", "--out", "{out}/sw"], "outside the gold scale"),
    ("baseline is a folder", ["check", "{in}/set.manifest.json", "--baseline", "{in}/a_folder", "--update-baseline"], "a_folder"),
]


@pytest.mark.parametrize("what,args,needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(fixtures, tmp_path, what, args, needle):
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(**{"in": fixtures, "out": out}) for a in args]
    before_in, before_out = files_under(fixtures), files_under(out)
    code, stdout, stderr = cli(*argv)
    assert code == 2, (what, stdout, stderr)
    assert stderr.startswith("afroadv: error: ") and stderr.count("\n") == 1, stderr
    assert needle in stderr, stderr
    assert "Traceback" not in stdout + stderr
    assert files_under(out) == before_out and files_under(fixtures) == before_in  # nothing written, nothing left


def test_version_and_bare_command_exit_0():
    from afroadv import __version__

    code, out, err = cli("--version")
    assert (code, out.strip(), err) == (0, f"afroadv {__version__}", "")
    code, out, err = cli()
    assert code == 0 and "generate" in out and "Usage" in out and err == ""
    code, out, _ = cli("validate")
    assert code == 0 and "sample" in out


def test_usage_errors_need_no_click_package(monkeypatch):
    """The light install has typer's own click only: the handler recognises usage errors by class."""
    import builtins

    real_import = builtins.__import__

    def no_click(name, *a, **kw):
        if name == "click" or name.startswith("click."):
            raise ImportError("no click here")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_click)
    code, _, err = cli("generate", "--lang", "hau")
    assert code == 2 and err.startswith("afroadv: error: Missing option")


# --- valid after all: a BOM, CRLF line ends, a new output folder --------------------------------


def test_bom_crlf_and_new_output_folders_work(tmp_path):
    data = tmp_path / "d.csv"
    data.write_bytes("\ufeffsentence1,sentence2,score\r\nIna son ruwa,Yana son abinci,0.4\r\nSun tafi gida,Sun koma gida,0.9\r\n".encode("utf-8"))
    out = tmp_path / "new" / "deeper" / "x.jsonl"
    code, _, err = cli("generate", "--lang", "hau", "--recipe", "charnoise", "--dataset", data, "--out", out)
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["score"] for r in records] == [0.4, 0.9] and records[0]["orig_sentence1"] == "Ina son ruwa"


# --- file faults ----------------------------------------------------------------------------------


def test_unwritable_folder_is_refused_before_work(tmp_path, monkeypatch):
    """A read-only folder (as root, permissions do not bite: the fault is simulated where the probe writes)."""
    import tempfile

    ro = tmp_path / "ro"
    ro.mkdir()
    real = tempfile.mkstemp

    def refuse(*a, dir=None, **kw):
        if dir is not None and Path(dir) == ro:
            raise PermissionError(13, "Permission denied")
        return real(*a, dir=dir, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    for argv in (["generate", "--lang", "hau", "--recipe", "charnoise", "--out", ro / "x.jsonl"],
                 ["evaluate", "--lang", "hau", "--recipe", "charnoise", "--out", ro / "r.json"],
                 ["lexicon", "induce", "--src", __file__, "--eng", __file__, "--out", ro / "l.tsv"]):
        code, _, err = cli(*argv)
        assert code == 2 and "cannot write in" in err and err.count("\n") == 1, err
    assert list(ro.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_for_real(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = cli("generate", "--lang", "hau", "--recipe", "charnoise", "--out", ro / "x.jsonl")
        assert code == 2 and "cannot write in" in err
    finally:
        ro.chmod(0o755)


# --- a set and its manifest are one unit -----------------------------------------------------------


def _generate(out: Path, seed: int) -> None:
    code, _, err = cli("generate", "--lang", "hau", "--recipe", "charnoise", "--limit", "4", "--seed", seed, "--out", out)
    assert code == 0, err


def test_a_kill_between_data_and_manifest_never_leaves_the_old_provenance(tmp_path, monkeypatch):
    from afroadv.evaluate import read_sets

    out = tmp_path / "s.jsonl"
    _generate(out, 0)
    calls = []
    real = os.replace

    def die_on_manifest(src, dst):
        calls.append(Path(dst).name)
        if Path(dst).name.endswith(".manifest.json"):
            raise KeyboardInterrupt  # the process dies after the data took its name
        return real(src, dst)

    monkeypatch.setattr(os, "replace", die_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        from afroadv.generate import generate, write_set

        write_set(out, generate("hau", "charnoise", seed=1, limit=4))
    monkeypatch.setattr(os, "replace", real)
    assert calls == ["s.jsonl", "s.manifest.json"]
    assert not (tmp_path / "s.manifest.json").exists()  # the seed-0 manifest went before the seed-1 data came
    (s,) = read_sets([out])
    assert s.provenance["seed"] is None  # evaluated without provenance, never with seed 0's
    assert [p.name for p in tmp_path.iterdir()] == ["s.jsonl"]  # no temp file left


def test_data_that_does_not_match_its_manifest_is_refused(tmp_path):
    out = tmp_path / "s.jsonl"
    _generate(out, 0)
    lines = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # an edited (or torn) file
    for argv in (["evaluate", "--sets", out, "--model", "tiny-xlmr", "--out", tmp_path / "r.json"],
                 ["validate", "sample", out, "--out", tmp_path / "s.csv"]):
        code, _, err = cli(*argv)
        assert code == 2 and "does not match its manifest" in err, err


def test_temp_files_of_killed_writers_go_with_the_next_write(tmp_path):
    stale = tmp_path / ".s.jsonl.afroadv-999999999.abcd.tmp"  # no such pid
    live = tmp_path / f".s.jsonl.afroadv-{os.getpid()}.efgh.tmp"  # a writer still running
    stale.write_text("x")
    live.write_text("y")
    _generate(tmp_path / "s.jsonl", 0)
    assert not stale.exists() and live.exists()


def test_temp_names_are_unpredictable(tmp_path):
    from afroadv.data.writers import atomic_path

    names = []
    for _ in range(2):
        with atomic_path(tmp_path / "f.txt") as tmp:
            names.append(tmp.name)
            tmp.write_text("z")
    assert names[0] != names[1] and all(str(os.getpid()) in n for n in names)


# --- strict JSON ----------------------------------------------------------------------------------


def test_results_never_hold_bare_nan(tmp_path):
    from afroadv.evaluate import write_results

    path = tmp_path / "r.json"
    write_results(path, {"results": [{"spearman": float("nan"), "drop_ci": [float("nan"), float("inf")], "n": 3}]})

    def refuse(name):
        raise AssertionError(f"bare {name} in JSON")

    (row,) = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)["results"]
    assert row["spearman"] is None and row["drop_ci"] == [None, None] and "finite" in row["spearman_note"]


# --- the dataset readers, fuzzed ------------------------------------------------------------------

_CELL = st.one_of(st.text(max_size=12), st.sampled_from(["nan", "inf", "-1", "0.5", "5", "7", "", '"', "\t", "\r"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(["sentence1,sentence2,score", "PairID,Text,Score", "id,sentence1,sentence2", "x,y"]),
       rows=st.lists(st.lists(_CELL, min_size=1, max_size=4), max_size=5),
       suffix=st.sampled_from([".csv", ".tsv", ".jsonl"]), junk=st.binary(max_size=8))
def test_readers_return_pairs_or_one_clear_error(tmp_path, header, rows, suffix, junk):
    from afroadv.data.readers import read_scored_file

    path = tmp_path / f"d{suffix}"
    sep = "\t" if suffix == ".tsv" else ","
    if suffix == ".jsonl":
        keys = header.split(",")
        body = "\n".join(json.dumps(dict(zip(keys, r))) for r in rows)
        data = body.encode("utf-8") + junk
    else:
        data = (header.replace(",", sep) + "\n" + "\n".join(sep.join(r) for r in rows)).encode("utf-8") + junk
    path.write_bytes(data)
    try:
        pairs, scale = read_scored_file(path, "hau")
    except AfroadvError as e:
        assert "\n" not in str(e) and str(e)
        return
    assert pairs and len({p.id for p in pairs}) == len(pairs)
    for p in pairs:
        assert p.sentence1.strip() and p.sentence2.strip()
        if p.score is not None:
            assert scale and scale[0] <= p.score <= scale[1]
