"""Ordinal out-of-domain sets from document structure (news-graded, bible-graded): how the pairs are
built (balanced levels, same-document neighbours, random partners from other documents, seeded, no
pair repeated), the shipped sets, Spearman against the level in evaluate, and the report and check."""

from __future__ import annotations

import json
import zlib
from collections import Counter

import numpy as np
import pytest
from conftest import run_cli_here

from afroadv.data.catalog import available_datasets, load_dataset
from afroadv.data.ordinal import Unit, graded_pairs
from afroadv.errors import AfroadvError
from afroadv.langs import get_language

DOCS = {"a": 4, "b": 3, "c": 5, "d": 1}  # d has no neighbour: never an anchor (but may be a random partner)
UNITS = [Unit(f"{doc}{j}", doc, f"x-{doc}{j}", f"e-{doc}{j}") for doc, n in DOCS.items() for j in range(n)]
BY_OTHER = {u.other: u for u in UNITS}


def _anchor(pair):
    return next(u for u in UNITS if u.text == pair.sentence1)


def test_levels_neighbours_and_random_partners():
    pairs = graded_pairs(UNITS, "xx", "t")
    assert Counter(p.score for p in pairs) == {2.0: 12, 1.0: 12, 0.0: 12}  # every sentence but d0, three levels each
    for p in pairs:
        u, partner = _anchor(p), BY_OTHER[p.sentence2]
        assert p.task == "ordinal" and p.lang == "xx" and p.id == f"t-{u.key}-{int(p.score)}"
        if p.score == 2:
            assert partner is u
        elif p.score == 1:  # the previous or next sentence of the same document
            assert partner.doc == u.doc and abs(UNITS.index(partner) - UNITS.index(u)) == 1
        else:
            assert partner.doc != u.doc
    assert not any(_anchor(p).doc == "d" for p in pairs)
    assert len({(p.sentence1, p.sentence2) for p in pairs}) == len(pairs)  # no pair repeated
    assert [p.score for p in pairs[:6]] == [2.0, 1.0, 0.0] * 2  # anchors in triples: any prefix is balanced


def test_sampling_is_seeded_and_size_keeps_levels_balanced():
    assert graded_pairs(UNITS, "xx", "t", seed=4) == graded_pairs(UNITS, "xx", "t", seed=4)
    assert graded_pairs(UNITS, "xx", "t", seed=4) != graded_pairs(UNITS, "xx", "t", seed=5)
    nine = graded_pairs(UNITS, "xx", "t", seed=4, size=9)
    assert len(nine) == 9 and Counter(p.score for p in nine) == {2.0: 3, 1.0: 3, 0.0: 3}
    assert nine == graded_pairs(UNITS, "xx", "t", seed=4)[:9]
    # a unit's pairs depend on itself and the seed, not on which other units are present
    fewer = [u for u in UNITS if u.key != "c4"]
    kept = {p.id: p for p in graded_pairs(fewer, "xx", "t", seed=4)}
    assert kept["t-a1-1"] == {p.id: p for p in graded_pairs(UNITS, "xx", "t", seed=4)}["t-a1-1"]


def test_duplicates_and_degenerate_corpora():
    dup = [*UNITS, Unit("a9", "a", "x-a0", "e-a9")]  # the same X text again: one anchor only
    pairs = graded_pairs(dup, "xx", "t")
    assert sum(p.sentence1 == "x-a0" for p in pairs) == 3
    with pytest.raises(AfroadvError, match="at least two documents"):
        graded_pairs([u for u in UNITS if u.doc == "a"], "xx", "t")
    with pytest.raises(AfroadvError, match="no sentence has a neighbour"):
        graded_pairs([Unit("1", "a", "x1", "e1"), Unit("2", "b", "x2", "e2")], "xx", "t")


def test_news_graded_follows_ntrex_articles():
    from afroadv.resources import data_dir

    ds = load_dataset(get_language("hau"), "news-graded")
    assert ds.name == "news-graded" and [f.name for f in ds.files][-1] == "DOCUMENT_IDS.tsv"
    assert Counter(p.score for p in ds.pairs) == {2.0: 1997, 1.0: 1997, 0.0: 1997}  # every article has ≥ 4 lines
    root = data_dir() / "bitext" / "ntrex128"
    docs = (root / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").split("\n")
    eng = {t: i for i, t in enumerate((root / "newstest2019-src.eng.txt").read_text(encoding="utf-8").split("\n"))}
    for p in ds.pairs[:300]:
        line = int(p.id.split("-")[-2]) - 1
        other = eng[p.sentence2]
        assert (docs[other] == docs[line]) == (p.score > 0) and (other == line) == (p.score == 2)
    assert "news-graded" in available_datasets(get_language("yor"))


def test_bible_graded_pairs_swahili_with_zulu_verses():
    ds = load_dataset(get_language("swa"), "bible-graded")
    first = ds.pairs[:3]
    assert [p.score for p in first] == [2.0, 1.0, 0.0]
    verse = first[0].id.removeprefix("bible-graded-swa-").rsplit("-", 1)[0]
    zul = dict(line.split("\t") for line in (ds.files[1]).read_text(encoding="utf-8").splitlines()[1:])
    assert ds.files[1].name == "zul.tsv" and first[0].sentence2 == zul[verse]
    chapter = verse.rsplit(".", 1)[0]
    near = next(v for v, t in zul.items() if t == first[1].sentence2)
    far = next(v for v, t in zul.items() if t == first[2].sentence2)
    assert near.rsplit(".", 1)[0] == chapter and far.rsplit(".", 1)[0] != chapter
    with pytest.raises(AfroadvError, match="no bible-graded set for hau"):
        load_dataset(get_language("hau"), "bible-graded")


def _bag_of_words(texts):
    out = np.zeros((len(texts), 512))
    for i, t in enumerate(texts):
        for w in t.lower().split():
            out[i, zlib.crc32(w.encode()) % 512] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_evaluate_scores_spearman_against_the_level(tmp_path):
    from scipy.stats import spearmanr

    from afroadv.api import evaluate

    doc = evaluate(_bag_of_words, "swa", "charnoise", dataset="bible-graded", limit=60, bootstrap=100,
                   out=tmp_path / "r.json")
    clean, pert = doc["results"]
    assert clean["task"] == pert["task"] == "ordinal" and clean["n"] == 60 and "pearson" not in clean
    ds = load_dataset(get_language("swa"), "bible-graded")
    pairs = ds.pairs[:60]
    emb = _bag_of_words([t for p in pairs for t in (p.sentence1, p.sentence2)])
    cos = (emb[0::2] * emb[1::2]).sum(axis=1)
    assert clean["spearman"] == pytest.approx(100 * spearmanr([p.score for p in pairs], cos)[0], abs=1e-3)
    levels = np.array([p.score for p in pairs])
    assert clean["mean_score_by_level"] == {k: pytest.approx(cos[levels == float(k)].mean(), abs=1e-4) for k in ("2", "1", "0")}
    lo, hi = clean["spearman_ci"]
    assert lo <= clean["spearman"] <= hi and pert["drop"] == pytest.approx(clean["spearman"] - pert["spearman"], abs=1e-3)

    from afroadv.check import check
    from afroadv.report import build_report

    assert check(tmp_path / "r.json", tmp_path / "r.json").passed
    build_report([tmp_path / "r.json"], tmp_path / "rep", ["md"])
    md = (tmp_path / "rep" / "report.md").read_text(encoding="utf-8")
    assert "## Ordinal relatedness (out-of-domain, no gold STS)" in md and "| swa | bible-graded | clean | 60 |" in md


def test_generate_perturbs_only_the_language_side(tmp_path):
    out = tmp_path / "g.jsonl"
    r = run_cli_here("generate", "--lang", "hau", "--dataset", "news-graded", "--recipe", "charnoise", "--limit", "30",
                     "--out", out)
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 30 and {r["task"] for r in records} == {"ordinal"}
    assert all(r["sentence2"] == r["orig_sentence2"] for r in records)
    assert sum(r["sentence1"] != r["orig_sentence1"] for r in records) > 15
    manifest = json.loads(out.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    assert manifest["dataset"]["name"] == "news-graded" and manifest["task"] == "ordinal"


def test_the_english_side_is_an_anchor_everywhere(tmp_path):
    """An ordinal set's partner is English: never learned from as the language's text, never attacked,
    and directional recipes (min_gold on the 0–2 levels) leave level-0 pairs alone (found in review)."""
    ds = load_dataset(get_language("hau"), "news-graded")
    assert ds.score_scale == (0.0, 2.0) and ds.own_texts() == [p.sentence1 for p in ds.pairs]
    out = tmp_path / "neg.jsonl"
    r = run_cli_here("generate", "--lang", "hau", "--dataset", "news-graded", "--recipe", "negation", "--limit", "150",
                     "--out", out)
    assert r.returncode == 0, r.stderr
    changed = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if json.loads(line)["changed"]]
    assert changed and all(c["score"] >= 1 and c["sentence2"] == c["orig_sentence2"] for c in changed)
    att = tmp_path / "att"
    pytest.importorskip("torch")
    r = run_cli_here("attack", "--model", "tiny-xlmr", "--lang", "hau", "--dataset", "news-graded", "--limit", "3", "--out", att)
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (att / "adversarial.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records and all(rec["sentence2"] == rec["orig_sentence2"] for rec in records)
