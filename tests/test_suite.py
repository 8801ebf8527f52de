"""`afroadv generate` with several languages and recipes: a suite folder (one set + manifest per
language × recipe, suite.json last), checked before any work, byte-identical under the same seed;
one language + one recipe + a set file keeps the single-set behaviour."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import run_cli, run_cli_here

from afroadv import __version__
from afroadv.data.writers import read_set_manifest
from afroadv.langs import get_language
from afroadv.perturb.recipe import recipes_for


def _supported(code: str) -> list[str]:
    return [r.name for r in recipes_for(get_language(code))]


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_suite_of_every_recipe_for_two_languages(tmp_path):
    out = tmp_path / "suite"
    r = run_cli("generate", "--lang", "hau,kin", "--recipe", "all", "--limit", "3", "--seed", "7", "--out", f"{out}/")
    assert r.returncode == 0, r.stderr
    index = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    expected = [(code, name) for code in ("hau", "kin") for name in _supported(code)]
    assert [(s["lang"], s["recipe"]) for s in index["sets"]] == expected
    assert index["kind"] == "afroadv-suite" and index["seed"] == 7 and index["afroadv_version"] == __version__
    assert index["options"]["limit"] == 3 and index["options"]["recipes"] == ["all"]
    names = set()
    for s in index["sets"]:
        data = out / s["file"]
        assert s["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
        manifest = read_set_manifest(data)  # checks the data against its own manifest too
        assert manifest["lang"] == s["lang"] and manifest["recipe"]["name"] == s["recipe"] and manifest["seed"] == 7
        assert s["n"] == 3 == len(data.read_text(encoding="utf-8").splitlines())
        names |= {s["file"], s["manifest"]}
    assert set(p.name for p in out.iterdir()) == names | {"suite.json"}
    assert f"wrote {len(expected)} sets" in r.stdout


def test_a_suite_is_byte_identical_under_the_same_seed_and_matches_single_sets(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        r = run_cli_here("generate", "--lang", "ha,swa", "--recipe", "charnoise,keyboard", "--limit", "4", "--out", out)
        assert r.returncode == 0, r.stderr
    assert _files(a) == _files(b)
    one = tmp_path / "one.jsonl"
    assert run_cli_here("generate", "--lang", "swa", "--recipe", "keyboard", "--limit", "4", "--out", one).returncode == 0
    assert one.read_bytes() == (a / "swa-keyboard.jsonl").read_bytes()  # a suite's set is the single set


def test_one_language_one_recipe_and_a_file_is_a_single_set(tmp_path):
    out = tmp_path / "hau.jsonl"
    r = run_cli_here("generate", "--lang", "hau", "--recipe", "charnoise", "--limit", "2", "--out", out)
    assert r.returncode == 0 and out.is_file() and (tmp_path / "hau.manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hau.jsonl", "hau.manifest.json"]
    # a suite of one language: --recipe all, even where that is one recipe
    r = run_cli_here("generate", "--lang", "amh,am", "--recipe", "all", "--limit", "2", "--out", tmp_path / "s")
    assert r.returncode == 0
    assert [s["recipe"] for s in json.loads((tmp_path / "s" / "suite.json").read_text())["sets"]] == _supported("amh")


@pytest.mark.parametrize("langs,recipes,out,msg", [
    ("amh,hau", "translit", "s", "hau cannot be in this suite"),
    ("hau,xx", "charnoise", "s", "unknown language"),
    ("hau,kin", "charnoise,nope", "s", "unknown recipe"),
    ("hau,kin", "all,charnoise", "s", "--recipe all stands alone"),
    ("hau,kin", "charnoise", "file.txt", "suite folder"),
    ("hau,kin", "charnoise", "s.jsonl", "give --out a folder"),
    ("hau,eng", "charnoise", "s", "eng"),  # (with ../shared absent: no eng set; else the listed recipe runs)
])
def test_bad_suites_fail_before_any_work(tmp_path, monkeypatch, langs, recipes, out, msg):
    import afroadv.data.catalog as catalog

    monkeypatch.setattr(catalog, "shared_data_dir", lambda: None)
    (tmp_path / "file.txt").write_text("not a folder")
    r = run_cli_here("generate", "--lang", langs, "--recipe", recipes, "--out", tmp_path / out)
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "s").exists() and not (tmp_path / "s.jsonl").exists()


def test_a_failed_suite_leaves_no_index(tmp_path, monkeypatch):
    import importlib

    gen = importlib.import_module("afroadv.generate")  # the module (`import afroadv.generate as gen` gives the API function)
    from afroadv.suite import generate_suite

    out = tmp_path / "s"
    assert run_cli_here("generate", "--lang", "hau", "--recipe", "charnoise,keyboard", "--limit", "2", "--out", out).returncode == 0
    real, calls = gen.generate, []

    def second_fails(*a, **k):
        calls.append(a)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(gen, "generate", second_fails)
    with pytest.raises(KeyboardInterrupt):
        generate_suite(["hau"], ["charnoise", "keyboard"], out, limit=3)
    assert not (out / "suite.json").exists()  # the old index went before the first new set
    assert read_set_manifest(out / "hau-charnoise.jsonl")["dataset"]["limit"] == 3  # each set is whole
