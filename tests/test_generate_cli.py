import json
import sys

import pytest

from afroadv.generate import COLUMNS, COUNT_COLUMNS
from conftest import ROOT, run_cli


def gen(tmp_path, *args, name="out.jsonl"):
    out = tmp_path / name
    r = run_cli("generate", *args, "--out", out)
    return r, out


@pytest.mark.parametrize("lang,n", [("hau", 603), ("amh", 171), ("kin", 222), ("afr", 375), ("sw", 390), ("yo", 1997), ("zu", 1997)])
def test_codeswitch_on_default_sets(tmp_path, lang, n):
    """Every pair gets a record; code-switching touches the pairs with a switchable noun (few: only
    nouns of a lexicon that passed the precision bar), at the nominal rate of those nouns."""
    r, out = gen(tmp_path, "--lang", lang, "--recipe", "codeswitch")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == n
    assert list(rows[0]) == COLUMNS + COUNT_COLUMNS
    assert 0.1 < sum(r["changed"] for r in rows) / n
    assert all(r["n_changed"] <= r["n_eligible"] for r in rows)
    assert all(r["changed"] for r in rows if r["n_changed"]) and not any(r["changed"] for r in rows if not r["n_eligible"])
    manifest = json.loads(out.with_name("out.manifest.json").read_text(encoding="utf-8"))
    for key in ("recipe", "seed", "input_sha256", "lexicons", "afroadv_version", "dataset", "output", "dataset_words"):
        assert key in manifest
    assert manifest["stats"]["nominal_rate"] == 0.5 and 0 < manifest["stats"]["realised_rate"] <= 1
    assert manifest["lexicons"] and all("@" in v for v in manifest["lexicons"].values())
    task = "sts" if lang in ("hau", "amh", "kin", "afr") else "bitext"
    assert {r["task"] for r in rows} == {task}
    if task == "bitext":
        assert all(r["score"] is None and r["sentence2"] == r["orig_sentence2"] for r in rows)


def test_same_seed_is_byte_identical_other_seed_differs(tmp_path):
    a = gen(tmp_path, "--lang", "amh", "--recipe", "charnoise", "--seed", "7", name="a.jsonl")[1]
    b = gen(tmp_path, "--lang", "amh", "--recipe", "charnoise", "--seed", "7", name="b.jsonl")[1]
    c = gen(tmp_path, "--lang", "amh", "--recipe", "charnoise", "--seed", "8", name="c.jsonl")[1]
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_parquet_output_and_datasets_loads_the_jsonl(tmp_path):
    r, out = gen(tmp_path, "--lang", "hau", "--recipe", "diacritics", "--limit", "20", name="h.parquet")
    assert r.returncode == 0, r.stderr
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 20
    r, out = gen(tmp_path, "--lang", "hau", "--recipe", "diacritics", "--limit", "20", name="h.jsonl")
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == 20 and set(COLUMNS) <= set(ds.column_names)


BAD_FILES = {
    "malformed.csv": ('sentence1,sentence2,score\n"unclosed,quote,1\n', "malformed"),
    "missing.csv": ("sentence1,score\nabc,0.5\n", "missing column"),
    "nan.csv": ("sentence1,sentence2,score\nruwa,ruwa,nan\n", "finite gold score"),
    "empty.csv": ("sentence1,sentence2,score\nruwa,,0.5\n", "empty sentence"),
    "short.csv": ("sentence1,sentence2,score\nruwa,ruwa\n", "malformed row"),
    "semrel.csv": ("PairID,Text,Score\nx1,only one sentence,0.5\n", "two sentences"),
    "bad.jsonl": ('{"sentence1": "a", "sentence2": "b", "score": 1}\n{not json\n', "malformed JSON"),
}


@pytest.mark.parametrize("fname", sorted(BAD_FILES))
def test_bad_input_files_exit_2_with_one_line_and_no_output(tmp_path, fname):
    content, message = BAD_FILES[fname]
    f = tmp_path / fname
    f.write_text(content, encoding="utf-8")
    r, out = gen(tmp_path, "--lang", "hau", "--recipe", "charnoise", "--dataset", f)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob("out*"))


@pytest.mark.parametrize(
    "args,message",
    [
        (["--lang", "xx", "--recipe", "charnoise"], "unknown language"),
        (["--lang", "hau", "--recipe", "nosuch"], "unknown recipe"),
        (["--lang", "amh", "--recipe", "diacritics"], "recipe 'diacritics' is for"),
        (["--lang", "sw", "--recipe", "charnoise", "--dataset", "semrel"], "no gold STS"),
        (["--lang", "hau", "--recipe", "charnoise", "--rate", "1.5"], "--rate must be at most 1"),
        (["--lang", "hau", "--recipe", "charnoise", "--dataset", "/nonexistent/x.csv"], "not found"),
    ],
)
def test_bad_options_exit_2(tmp_path, args, message):
    r, out = gen(tmp_path, *args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_generic_csv_and_stsb_inputs(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("id,sentence1,sentence2,score\na,Ruwa ya yi tsada,Ruwa yana da tsada,4.5\n", encoding="utf-8")
    r, out = gen(tmp_path, "--lang", "hau", "--recipe", "charnoise", "--dataset", f, "--rate", "1")
    assert r.returncode == 0, r.stderr
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["source_id"] == "a" and row["score"] == 4.5 and row["changed"]
    manifest = json.loads(out.with_name("out.manifest.json").read_text(encoding="utf-8"))
    assert manifest["dataset"]["score_scale"] == [0.0, 5.0]
    stsb = tmp_path / "sts-dev.csv"
    stsb.write_text('main-captions\tMSRvid\t2012test\t0001\t5.000\tA "man" is here.\tA man is "here".\n', encoding="utf-8")
    r, out = gen(tmp_path, "--lang", "eng", "--recipe", "keyboard", "--dataset", stsb, name="s.jsonl")
    assert r.returncode == 0, r.stderr
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["orig_sentence1"] == 'A "man" is here.' and row["score"] == 5.0


def test_import_and_generate_never_load_torch(tmp_path):
    code = (
        "import sys, afroadv\n"
        "from afroadv.cli import main\n"
        f"sys.argv=['afroadv','generate','--lang','hau','--recipe','codeswitch','--limit','5','--out',r'{tmp_path / 'x.jsonl'}']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'textattack', 'sentence_transformers', 'datasets') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    import subprocess

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_langs_and_recipes_commands_list_everything():
    r = run_cli("langs")
    assert r.returncode == 0 and "Hausa" in r.stdout and "Ethiopic" in r.stdout
    r = run_cli("recipes")
    assert r.returncode == 0
    for name in ("charnoise", "keyboard", "diacritics", "codeswitch", "lexsub", "translit"):
        assert name in r.stdout


def test_data_manifest_matches_the_shipped_files():
    import hashlib

    root = ROOT / "data"
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["files"]
    for entry in manifest["files"]:
        path = root / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], entry["path"]
        assert entry["licence"] and entry["origin"]


def test_generic_tsv_input(tmp_path):
    f = tmp_path / "mine.tsv"
    f.write_text("sentence1\tsentence2\tscore\nRuwa ya yi tsada\tRuwa yana da tsada\t0.8\n", encoding="utf-8")
    r, out = gen(tmp_path, "--lang", "hau", "--recipe", "charnoise", "--dataset", f)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["score"] == 0.8
