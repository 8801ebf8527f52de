"""Consistency training (`afroadv train --method consistency`): seeded draws over unlabeled text,
the overlap guard against evaluation text, the teacher's embeddings from the cache, and a few
optimizer steps of the tiny XLM-R whose folder `afroadv evaluate` loads."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path

import pytest
from conftest import run_cli

from afroadv.consistency import ConsistencyDraws, draw_stats, parts_summary
from afroadv.errors import AfroadvError
from afroadv.unlabeled import Source, check_overlap, match_key, resolve_sources

HAU = [
    "Gwamnatin jihar Kano ta ce za ta gina sababbin makarantu a wannan shekara.",
    "Manoma sun koka kan tsadar taki da kuma rashin ruwan sama a arewacin kasar.",
    "Yaran sun je kasuwa domin sayen abinci da kayan makaranta ranar Litinin.",
    "Likitoci sun yi gargadi game da yaduwar cutar zazzabin cizon sauro a garuruwa.",
    "Shugaban kasa ya gana da gwamnoni domin tattauna batun tsaro a yankin.",
    "Ruwan sama mai karfi ya lalata gidaje da dama a kauyukan da ke kusa da kogi.",
    "Dalibai sun yi murna bayan sun samu sakamakon jarrabawar da suka rubuta.",
    "Kungiyar kwallon kafa ta lashe wasan karshe da ci biyu da daya a filin wasa.",
]


@pytest.fixture(scope="module", autouse=True)
def _cache_dir(module_cache):
    return module_cache


@pytest.fixture(scope="module")
def hau_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("unlabeled") / "hau.txt"
    path.write_text("\n".join(HAU) + "\n", encoding="utf-8")
    return path


def _semrel_sentence(lang: str = "hau") -> str:
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    return load_dataset(get_language(lang), "semrel", "test").pairs[3].sentence1


# ----------------------------------------------------------------------------- draws (no torch)


def _draws(seed: int, recipes=("charnoise", "codeswitch")) -> ConsistencyDraws:
    d = ConsistencyDraws(recipes, ("hau",), seed)
    d.set_pools({"hau": tuple(HAU)})
    return d


def test_draws_are_seeded_per_row():
    a, b, c = _draws(0).draws(24), _draws(0).draws(24), _draws(1).draws(24)
    assert [d.perturbed for d in a] == [d.perturbed for d in b]
    assert [d.perturbed for d in a] != [d.perturbed for d in c]
    # a row's draw does not depend on which other rows are drawn
    assert _draws(0).draw(17) == a[17]
    assert {d.text for d in a[:8]} == set(HAU)  # every sentence of the pool before any repeats
    assert [d.text for d in a[:8]] != [d.text for d in a[8:16]]  # the next cycle in another order
    changed = [d for d in a if d.recipe]
    assert changed and all(d.perturbed != d.text and d.recipe in ("charnoise", "codeswitch") for d in changed)
    stats = draw_stats(a)
    assert stats["draws"] == 24 and stats["per_language"] == {"hau": 24} and 0 < stats["changed_share"] <= 1


def test_draws_balance_languages_and_respect_recipe_support():
    d = ConsistencyDraws(("charnoise", "translit"), ("hau", "amh"), 0)
    d.set_pools({"hau": tuple(HAU), "amh": ("ሰላም ነው፣ ዛሬ ወደ ገበያ እሄዳለሁ።", "መንግስት አዲስ ትምህርት ቤቶችን ይገነባል።")})
    draws = d.draws(8)
    assert [x.lang for x in draws] == ["hau", "amh"] * 4
    assert all(x.recipe != "translit" for x in draws if x.lang == "hau")  # translit writes Ge'ez only
    assert d.describe()["recipe_languages"] == {"charnoise": ["hau", "amh"], "translit": ["amh"]}


def test_default_recipes_are_those_that_apply():
    assert ConsistencyDraws((), ("hau",), 0).recipes == ("charnoise", "codeswitch")
    assert ConsistencyDraws((), ("hau", "amh"), 0).recipes == ("charnoise", "codeswitch", "translit")


def test_draws_refuse_bad_recipes():
    with pytest.raises(AfroadvError, match="translit"):
        ConsistencyDraws(("translit",), ("hau",), 0)
    with pytest.raises(AfroadvError, match="numswap"):
        ConsistencyDraws(("numswap",), ("hau",), 0)  # directional: changes meaning on purpose
    with pytest.raises(AfroadvError, match="set_pools"):
        ConsistencyDraws(("charnoise",), ("hau",), 0).draw(0)


def test_parts_summary():
    s = parts_summary([(4.0, 0.03)] * 5 + [(3.0, 0.01)] * 5)
    assert s == {"batches": 10, "task_first": 4.0, "task_last": 3.0, "consistency_first": 0.03, "consistency_last": 0.01}
    assert parts_summary([]) == {}


# ----------------------------------------------------------------------------- sources and the overlap guard


def test_match_key_ignores_case_spacing_and_punctuation():
    assert match_key("Sannu  da zuwa!") == match_key("sannu da zuwa") != match_key("sannu da zuwa gida")
    assert match_key("ሰላም ነው።") == match_key("ሰላም  ነው")


def test_default_sources_cover_each_language():
    sources = resolve_sources(None, ("hau", "afr"))
    names = {s.name for s in sources}
    assert {"ntrex:hau", "tweets:hau", "ntrex:afr", "tatoeba:afr"} <= names
    assert all(s.default and s.sentences and s.files for s in sources)


def test_source_files_need_their_language(hau_file):
    [src] = resolve_sources((str(hau_file),), ("hau",))
    assert src.lang == "hau" and src.sentences == tuple(HAU) and not src.default
    mixed = resolve_sources((f"hau:{hau_file}", "tatoeba"), ("hau", "afr"))
    assert [(s.name, s.lang) for s in mixed] == [(f"hau:{hau_file}", "hau"), ("tatoeba:afr", "afr")]
    with pytest.raises(AfroadvError, match="LANG:PATH"):
        resolve_sources((str(hau_file),), ("hau", "afr"))
    with pytest.raises(AfroadvError, match="not among --langs"):
        resolve_sources((f"yor:{hau_file}",), ("hau",))
    with pytest.raises(AfroadvError, match="not a file"):
        resolve_sources(("hau:/nonexistent/x.txt",), ("hau",))
    with pytest.raises(AfroadvError, match="no unlabeled text for afr"):
        resolve_sources((f"hau:{hau_file}",), ("hau", "afr"))


def test_overlap_guard_refuses_an_evaluation_sentence(tmp_path, hau_file):
    leaked = tmp_path / "leaked.txt"
    sentence = _semrel_sentence()
    leaked.write_text("\n".join([*HAU, "  " + sentence.upper() + " "]) + "\n", encoding="utf-8")
    with pytest.raises(AfroadvError, match=r"semrel-test:hau \(1 sentence\)"):
        check_overlap(resolve_sources((str(leaked),), ("hau",)), ("hau",))
    kept, record = check_overlap(resolve_sources((str(hau_file),), ("hau",)), ("hau",))
    assert len(kept) == 1 and record["evaluation_overlap"] == 0
    assert {"semrel-test:hau", "semrel-dev:hau", "semrel-test:amh"} <= set(record["checked_against"])


def test_overlap_guard_skips_a_default_source(hau_file):
    sentence = _semrel_sentence()
    default = Source("tweets:hau", "hau", (hau_file,), (*HAU, sentence), default=True)
    kept, record = check_overlap([default], ("hau",))
    assert kept == [] and record["skipped_default_sources"][0]["overlaps"] == {"semrel-test:hau": 1}


def test_catalogue_overlap_is_recorded_not_refused():
    sources = resolve_sources(("tweets",), ("hau",))
    kept, record = check_overlap(sources, ("hau",))
    assert kept and "tweets:hau" in record["do_not_evaluate_on"]


def test_cli_refuses_leaked_source_before_any_work(tmp_path):
    leaked = tmp_path / "leaked.txt"
    leaked.write_text("\n".join([*HAU, _semrel_sentence()]) + "\n", encoding="utf-8")
    r = run_cli("train", "--model", "tiny-xlmr", "--method", "consistency", "--langs", "hau", "--unlabeled", str(leaked),
                "--out", tmp_path / "m")
    assert r.returncode == 2 and "contains evaluation text: semrel-test:hau" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "m").exists()


@pytest.mark.parametrize("args,message", [
    (["--method", "plain", "--unlabeled", "tweets"], "--unlabeled only applies to --method consistency"),
    (["--method", "consistency", "--head", "cross"], "trains bi-encoders"),
    (["--method", "consistency", "--consistency-weight", "-1"], "--consistency-weight"),
    (["--method", "consistency", "--consistency-weight", "nan"], "--consistency-weight"),
    (["--method", "consistency", "--recipes", "numswap"], "numswap"),
    (["--method", "consistency", "--consistency-target", "teacher"], "--consistency-target must be frozen or self"),
])
def test_cli_option_errors(tmp_path, args, message):
    r = run_cli("train", "--model", "tiny-xlmr", *args, "--out", tmp_path / "m")
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


# ----------------------------------------------------------------------------- training

pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def stsb_file(tmp_path_factory) -> Path:
    from test_train import _write_stsb

    return _write_stsb(tmp_path_factory.mktemp("data") / "sts-train.csv")


def _train(out: Path, data: Path, unlabeled: Path, **kw):
    from afroadv.train import TrainOptions, train

    opts = {"model": "tiny-xlmr", "out": out, "data": str(data), "method": "consistency", "langs": ("hau",),
            "unlabeled": (str(unlabeled),), "recipes": ("charnoise",), "max_steps": 3, "batch_size": 4,
            "max_seq_length": 32, "progress": False, "save_steps": 1000, "consistency_weight": 5.0, **kw}
    return train(TrainOptions(**opts))


def test_consistency_training_writes_a_loadable_folder_with_its_card(tmp_path, stsb_file, hau_file):
    from afroadv.models import load_encoder

    info = _train(tmp_path / "m", stsb_file, hau_file)
    assert info["training"]["global_steps"] == 3
    cons = info["consistency"]
    assert cons["weight"] == 5.0 and cons["draws"]["recipes"] == ["charnoise"] and cons["draws"]["langs"] == ["hau"]
    [src] = cons["unlabeled_sources"]
    assert src["sentences"] == len(HAU) and len(src["files"][0]["sha256"]) == 64
    assert cons["overlap_check"]["evaluation_overlap"] == 0 and "semrel-test:hau" in cons["overlap_check"]["checked_against"]
    assert cons["draw_stats"]["draws"] == 24 and cons["losses"]["batches"] == 3  # 24 pairs x 1 epoch
    assert cons["target"] == "frozen" and cons["teacher"]["sentences"] == len(HAU)
    saved = json.loads((tmp_path / "m" / "afroadv_train.json").read_text(encoding="utf-8"))
    assert saved["consistency"]["weight"] == 5.0 and saved["options"]["method"] == "consistency"
    card = (tmp_path / "m" / "README.md").read_text(encoding="utf-8")
    for field in ("Method **consistency**", "| consistency weight (λ) | 5 |", "| unlabeled sources |",
                  src["files"][0]["sha256"][:12], "| overlap check |", "no shared sentence"):
        assert field in card
    enc = load_encoder(str(tmp_path / "m"), cache=False)
    assert enc.encode(["Sannu da zuwa"]).shape == (1, enc.dim)
    r = run_cli("evaluate", "--model", tmp_path / "m", "--lang", "hau", "--recipe", "charnoise", "--limit", "12",
                "--bootstrap", "200", "--out", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["results"]


def test_frozen_teacher_embeddings_come_from_the_cache(tmp_path, stsb_file, hau_file):
    first = _train(tmp_path / "a", stsb_file, hau_file, seed=7)["consistency"]
    second = _train(tmp_path / "b", stsb_file, hau_file, seed=7)["consistency"]
    assert first["target"] == "frozen" and first["teacher"]["model_id"] == "tiny-xlmr"
    assert first["teacher"]["cache"]["namespace"] == second["teacher"]["cache"]["namespace"]
    assert second["teacher"]["cache"]["misses"] == 0 and second["teacher"]["cache"]["hits"] >= len(HAU)
    card = (tmp_path / "b" / "README.md").read_text(encoding="utf-8")
    assert "| consistency target | the starting model, frozen" in card and "from the embedding cache" in card


def test_self_target_needs_no_teacher(tmp_path, stsb_file, hau_file):
    cons = _train(tmp_path / "m", stsb_file, hau_file, consistency_target="self")["consistency"]
    assert cons["target"] == "self" and "cache" not in cons["teacher"]
    assert "stop-gradient" in cons["distance"] and cons["losses"]["batches"] == 3
    card = (tmp_path / "m" / "README.md").read_text(encoding="utf-8")
    assert "| consistency target | the model's own embedding of the clean sentence (stop-gradient) |" in card


def test_epochs_draw_fresh_sentences_at_plains_steps(tmp_path, stsb_file, hau_file):
    info = _train(tmp_path / "m", stsb_file, hau_file, max_steps=None, epochs=2, batch_size=8)
    assert info["consistency"]["draw_stats"]["passes"] == 2 and info["consistency"]["draw_stats"]["draws"] == 48
    assert info["training"]["global_steps"] == 6  # as plain: 24 pairs / 8 x 2 epochs
    # 24 pairs in batches of 10 (3 steps an epoch), 1.5 epochs: plain runs ceil(1.5 x 3) = 5 steps
    info = _train(tmp_path / "n", stsb_file, hau_file, max_steps=None, epochs=1.5, batch_size=10)
    assert info["training"]["global_steps"] == 5 and info["consistency"]["draw_stats"]["passes"] == 2
    # --max-steps beyond one epoch draws a new pass too, not the same sentences again
    info = _train(tmp_path / "o", stsb_file, hau_file, max_steps=9, batch_size=8)
    assert info["training"]["global_steps"] == 9 and info["consistency"]["draw_stats"]["passes"] == 3


def test_resume_refuses_another_weight(tmp_path, stsb_file, hau_file):
    from afroadv.train import TrainOptions, _check_out

    (tmp_path / "m" / "checkpoints" / "checkpoint-1").mkdir(parents=True)
    (tmp_path / "m" / "checkpoints" / "checkpoint-1" / "trainer_state.json").write_text("{}", encoding="utf-8")
    base = {"model": "tiny-xlmr", "out": tmp_path / "m", "data": str(stsb_file), "method": "consistency",
            "langs": ("hau",), "unlabeled": (str(hau_file),), "resume": True}
    (tmp_path / "m" / "checkpoints" / "afroadv_run.json").write_text(
        json.dumps(TrainOptions(**base).run_config()), encoding="utf-8")
    assert _check_out(TrainOptions(**base)) is not None
    with pytest.raises(AfroadvError, match="consistency_weight"):
        _check_out(TrainOptions(**base, consistency_weight=3.0))
    with pytest.raises(AfroadvError, match="epochs"):  # consistency's table depends on the passes
        _check_out(TrainOptions(**base, epochs=2.0))
    # a checkpoint of an afroadv that did not record the consistency options yet: they had their defaults
    old = TrainOptions(**base).run_config()
    del old["consistency_weight"], old["consistency_target"]
    (tmp_path / "m" / "checkpoints" / "afroadv_run.json").write_text(json.dumps(old), encoding="utf-8")
    assert _check_out(TrainOptions(**base)) is not None
