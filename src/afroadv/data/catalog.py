"""The shipped datasets (data/sts, data/bitext) by id, and resolution of `--dataset ID|PATH`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from afroadv.data.ordinal import Unit, graded_pairs
from afroadv.data.pairs import ONE_SIDED_TASKS, Pair
from afroadv.data.readers import (
    check_unique_ids,
    read_bitext,
    read_invariance,
    read_lines,
    read_verses,
    read_scored_file,
    read_semrel,
    score_scale,
)
from afroadv.errors import AfroadvError
from afroadv.langs import Language
from afroadv.resources import data_dir, shared_data_dir
from afroadv.text import nfc

DATASETS = {
    "semrel": "SemRel 2024 gold semantic relatedness (score 0–1, Spearman); afr amh hau kin (+eng from ../shared)",
    "tatoeba": "Tatoeba X–English everyday sentence pairs (bitext retrieval; XTREME-R)",
    "ntrex": "NTREX-128 news sentences X–English (bitext retrieval), 1997 lines",
    # out-of-domain text without gold labels → invariance sets (a sentence vs its perturbed self)
    "tweets": "AfriSenti tweets (dev split): social-media text, invariance set",
    "bible": "New Testament verses: religious text, invariance set",
    "news": "NTREX-128 news sentences (the African side alone), invariance set",
    # out-of-domain ordinal gold from document structure (data/ordinal.py): translation 2 > same-document neighbour 1 > other document 0
    "news-graded": "NTREX-128 X–English graded pairs by article (ordinal levels 2/1/0, Spearman)",
    "bible-graded": "New Testament swa–zul graded pairs by chapter (ordinal levels 2/1/0, Spearman)",
}
INVARIANCE_SETS = ("tweets", "bible", "news")
ORDINAL_SETS = ("news-graded", "bible-graded")
NTREX_DOCUMENTS = "DOCUMENT_IDS.tsv"  # each NTREX line's source article (bbc.381790 ...), line-aligned


@dataclass(frozen=True)
class LoadedDataset:
    name: str
    split: str
    pairs: list[Pair]
    files: tuple[Path, ...]
    score_scale: tuple[float, float] | None

    def own_texts(self) -> list[str]:
        """Every text in the dataset's language: both sentences of a scored pair, the first of a bitext
        or invariance pair (the other is the untouched English or original anchor)."""
        texts = []
        for p in self.pairs:
            texts.append(p.sentence1)
            if p.task not in ONE_SIDED_TASKS:
                texts.append(p.sentence2)
        return texts


def _semrel_file(lang: Language, split: str) -> Path:
    name = f"{lang.sts}_{split}_with_labels.csv"
    for root in (data_dir() / "sts" / "semrel2024", (shared_data_dir() or Path("/nonexistent")) / "semrel2024"):
        if (root / name).exists():
            return root / name
    raise AfroadvError(f"no SemRel {split} split for {lang.code} here (shipped: dev, test for afr amh hau kin; "
                       "others only from ../shared/data/semrel2024); pass --dataset PATH")


def _bitext_files(name: str, lang: Language) -> tuple[Path, Path]:
    code = lang.bitext[name]
    if name == "tatoeba":
        root = data_dir() / "bitext" / "tatoeba"
        return root / f"tatoeba.{code}-eng.{code}", root / f"tatoeba.{code}-eng.eng"
    ref = _ntrex_ref(code)
    return ref, ref.with_name("newstest2019-src.eng.txt")


def _ntrex_ref(code: str) -> Path:
    return data_dir() / "bitext" / "ntrex128" / f"newstest2019-ref.{code}.txt"


def vendored_bitext(code: str) -> dict[str, str]:
    """{"ntrex": code} when data/bitext/ntrex128 ships the code's NTREX-128 file (a language outside
    the registry then has `--dataset ntrex` and `news`), else {}."""
    return {"ntrex": code} if _ntrex_ref(code).exists() else {}


def learnable_shipped() -> list[str]:
    """Codes outside the registry whose NTREX-128 file ships (`--dataset ntrex` works for them)."""
    from afroadv.langs import find_language

    codes = sorted(p.name.split(".")[1] for p in _ntrex_ref("*").parent.glob("newstest2019-ref.*.txt"))
    return [c for c in codes if "-" not in c and find_language(c) is None]


def _ood_file(name: str, lang: Language) -> Path | None:
    if name == "news":
        return _bitext_files("ntrex", lang)[0] if "ntrex" in lang.bitext else None
    folder = {"tweets": "afrisenti", "bible": "bible"}[name]
    path = data_dir() / "ood" / folder / f"{lang.code}.tsv"
    return path if path.exists() else None


def _ordinal_files(name: str, lang: Language) -> tuple[Path, Path, Path] | None:
    """The X file, the other side's file and (news) the document ids of an ordinal set, or None."""
    if name == "news-graded":
        if "ntrex" not in lang.bitext:
            return None
        src, eng = _bitext_files("ntrex", lang)
        return src, eng, src.parent / NTREX_DOCUMENTS
    folder = data_dir() / "ood" / "bible"
    mine = folder / f"{lang.code}.tsv"
    others = sorted(p for p in folder.glob("*.tsv") if p != mine)
    return (mine, others[0], mine) if mine.exists() and others else None  # swa's partner is zul, zul's swa


def _ordinal_units(name: str, files: tuple[Path, Path, Path]) -> list[Unit]:
    """News: one unit per NTREX line (document = article). Bible: one per verse present in both
    languages (document = chapter, `b.MAT.1` of `b.MAT.1.1`), in the X file's order."""
    if name == "news-graded":
        src, eng, docs = files
        x, e, d = read_lines(src), read_lines(eng), read_lines(docs)
        if not len(x) == len(e) == len(d):
            raise AfroadvError(f"{name}: {src.name}, {eng.name} and {docs.name} are not line-aligned "
                               f"({len(x)}, {len(e)}, {len(d)} lines)")
        return [Unit(str(i), doc.strip(), nfc(a.strip()), nfc(b.strip()))
                for i, (a, b, doc) in enumerate(zip(x, e, d), start=1) if a.strip() and b.strip()]
    mine, other = read_verses(files[0]), dict(read_verses(files[1]))
    return [Unit(vid, vid.rsplit(".", 1)[0], text, other[vid]) for vid, text in mine if vid in other]


def _present(name: str, lang: Language) -> bool:
    if name == "semrel":
        try:
            return _semrel_file(lang, "test").exists()
        except AfroadvError:
            return False
    return all(p.exists() for p in _bitext_files(name, lang))


def available_datasets(lang: Language) -> list[str]:
    """The catalogue sets whose files are on this machine (eng's SemRel set, for one, is not shipped)."""
    return ([n for n in lang.datasets if _present(n, lang)] + [n for n in INVARIANCE_SETS if _ood_file(n, lang)]
            + [n for n in ORDINAL_SETS if _ordinal_files(n, lang) and all(p.exists() for p in _ordinal_files(n, lang))])


def default_dataset(lang: Language) -> str | None:
    """The set `generate` uses without --dataset, when its files are here (else None: --dataset PATH)."""
    name = lang.default_dataset
    return name if name is not None and _present(name, lang) else None


def load_dataset(lang: Language, dataset: str | None = None, split: str = "test") -> LoadedDataset:
    """`dataset` is a catalogue id (semrel, tatoeba, ntrex), a file path, or None for the language's default."""
    name = dataset or lang.default_dataset
    if name is None:
        raise AfroadvError(f"{lang.code} has no shipped dataset; pass --dataset PATH (csv/tsv/jsonl with sentence1,sentence2)")
    if name in INVARIANCE_SETS:
        path = _ood_file(name, lang)
        if path is None:
            have = ", ".join(available_datasets(lang)) or "none"
            raise AfroadvError(f"no {name} set for {lang.code} (available: {have})")
        pairs = read_invariance(path, lang.code, f"{name}-{lang.code}")
        return LoadedDataset(name, "test", pairs, (path,), None)
    if name in ORDINAL_SETS:
        files = _ordinal_files(name, lang)
        if files is None or not all(p.exists() for p in files):
            have = ", ".join(available_datasets(lang)) or "none"
            raise AfroadvError(f"no {name} set for {lang.code} (available: {have})")
        pairs = graded_pairs(_ordinal_units(name, files), lang.code, f"{name}-{lang.code}")
        return LoadedDataset(name, "test", pairs, tuple(dict.fromkeys(files)), (0.0, 2.0))  # levels 0, 1, 2
    if name in DATASETS:
        if name == "semrel":
            if not lang.sts:
                raise AfroadvError(
                    f"{lang.code} has no gold STS set (never invented); use --dataset {' or '.join(lang.bitext) or 'PATH'}"
                )
            path = _semrel_file(lang, split)
            pairs = read_semrel(path, lang.code)
            check_unique_ids(pairs, path)
            return LoadedDataset("semrel", split, pairs, (path,), score_scale(pairs, path, (0.0, 1.0)))
        if name not in lang.bitext:
            have = ", ".join(available_datasets(lang)) or "none"
            raise AfroadvError(f"no {name} set for {lang.code} (available: {have})")
        src, eng = _bitext_files(name, lang)
        pairs = read_bitext(src, eng, lang.code, f"{name}-{lang.code}")
        return LoadedDataset(name, "test", pairs, (src, eng), None)
    path = Path(name)
    if not path.exists() and not any(sep in name for sep in "/\\.") :
        raise AfroadvError(f"unknown dataset {name!r}: use one of {', '.join(DATASETS)} or a file path")
    pairs, scale = read_scored_file(path, lang.code)
    return LoadedDataset(str(path), split, pairs, (path,), scale)
