"""MTEB interop: an afroadv set as an MTEB STS task, and an afroadv model as an MTEB encoder.

Why: MTEB is where multilingual encoders are compared; a generated set run there gives figures that
sit beside MTEB's own. The task holds the set's pairs and gold scores (MTEB scores by cosine and
Spearman, as `afroadv evaluate` does); the encoder wrapper embeds through afroadv's own encoder, so
MTEB sees the same prompt (`query: ` for e5), pooling and embedding cache as afroadv.

    import mteb
    from afroadv.integrations.mteb import task_from_set, encoder
    task = task_from_set("hau-charnoise.jsonl")            # or load_task("hau-charnoise-mteb/")
    res = mteb.evaluate(encoder("e5-small"), task, cache=None)

mteb is imported inside the functions (optional extra: pip install 'afroadv[mteb]').
"""

from __future__ import annotations

import json
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.text import language_tag

# afroadv's script names (data/languages.yaml) as the ISO 15924 codes MTEB's language tags use.


def _mteb():
    try:
        import mteb
        from mteb.abstasks.sts import AbsTaskSTS
        from mteb.abstasks.task_metadata import TaskMetadata
    except ImportError:
        raise AfroadvError("this needs the mteb package: pip install 'afroadv[mteb]'") from None
    return mteb, AbsTaskSTS, TaskMetadata


def _lang_tag(lang: str) -> str:
    """`hau` -> `hau-Latn` (MTEB's ISO 639-3 + ISO 15924 tag); a tag already made (`kab-Latn`) stays."""
    from afroadv.langs import get_language

    if "-" in lang:
        return lang

    try:
        script = get_language(lang).script
    except AfroadvError:
        script = None
    return language_tag(lang, script)


def make_task(pairs: list[dict], meta: dict):
    """An MTEB STS task over `pairs` (dicts with sentence1, sentence2, score), described by `meta`
    (what `afroadv export --format mteb` writes to mteb_task.json)."""
    _, AbsTaskSTS, TaskMetadata = _mteb()
    from datasets import Dataset

    if not pairs:
        raise AfroadvError("an MTEB task needs at least one pair")
    if any(p.get("score") is None for p in pairs):
        raise AfroadvError("MTEB STS tasks need a gold score for every pair (bitext and invariance sets have none)")
    data = Dataset.from_dict({"sentence1": [p["sentence1"] for p in pairs],
                              "sentence2": [p["sentence2"] for p in pairs],
                              "score": [float(p["score"]) for p in pairs]})
    metadata = TaskMetadata(
        name=meta["name"],
        description=meta["description"],
        dataset={"path": f"afroadv/{meta['name']}", "revision": meta.get("revision") or "local"},
        reference=None,
        type="STS",
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=[_lang_tag(lang) for lang in meta["eval_langs"]],
        main_score="cosine_spearman",
        date=None,
        domains=None,
        task_subtypes=None,
        license=None,
        annotations_creators=None,
        dialect=None,
        sample_creation=None,
        bibtex_citation="",
    )

    class AfroadvSTSTask(AbsTaskSTS):
        min_score = meta["min_score"]
        max_score = meta["max_score"]

        def load_data(self, *args, **kwargs) -> None:
            self.dataset = {"default": {"test": data}}
            self.data_loaded = True

    AfroadvSTSTask.metadata = metadata
    return AfroadvSTSTask()


def load_task(folder: Path):
    """The MTEB task in a folder written by `afroadv export --format mteb`."""
    from afroadv.data.sets import read_set_records

    folder = Path(folder)
    meta_path = folder / "mteb_task.json"
    if not meta_path.is_file():
        raise AfroadvError(f"{folder} is not an MTEB export (no mteb_task.json; make one with afroadv export --format mteb)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AfroadvError(f"{meta_path}: not valid JSON") from None
    missing = [k for k in ("name", "description", "eval_langs", "min_score", "max_score", "data_file") if k not in meta]
    if missing:
        raise AfroadvError(f"{meta_path}: missing {', '.join(missing)}")
    return make_task(read_set_records(folder / meta["data_file"]), meta)


def task_from_set(set_path: Path, *, clean: bool = False):
    """The MTEB task for a set file from `afroadv generate` / `attack` (with `clean`, its originals)."""
    from afroadv.export import export_info, load_set, mteb_metadata

    records, manifest = load_set(Path(set_path), clean=clean)
    info = export_info(Path(set_path), records, manifest, clean, "mteb")
    if info["task"] != "sts":
        raise AfroadvError(f"{set_path} is a {info['task']} set; MTEB STS tasks need gold scores")
    return make_task(records, mteb_metadata(records, manifest, info))


def encoder(model: str = "e5-small", *, prompt: str | None = None, batch_size: int = 32, device: str | None = None,
            cache: bool = True, trust_remote_code: bool = False, allow_pickle: bool = False):
    """An MTEB encoder that embeds through afroadv's BiEncoder: the same model resolution, prompt
    (`prompt=None`: the one afroadv uses for the model, e.g. `query: ` for e5) and embedding cache.
    MTEB's own task prompts are ignored, so MTEB and `afroadv evaluate` embed identical strings.
    `cache=False` embeds everything afresh instead of reading afroadv's embedding cache."""
    mteb, _, _ = _mteb()
    from mteb.models.abs_encoder import AbsEncoder
    from mteb.models.model_meta import ModelMeta, ScoringFunction

    from afroadv.models import BiEncoder, resolve_model

    rm = resolve_model(model, kind="bi", trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    inner = BiEncoder(rm, batch_size=batch_size, device=device, prefix=prompt, cache=cache)
    ident = rm.identity()

    class AfroadvEncoder(AbsEncoder):
        def __init__(self):
            self.model = inner
            self.mteb_model_meta = ModelMeta.create_empty({
                "name": f"afroadv/{model}" if "/" not in str(model) else str(model),
                "revision": rm.fingerprint[:12],
                "n_parameters": rm.params,
                "similarity_fn_name": ScoringFunction.COSINE,
                "framework": ["PyTorch"],
                "adapted_from": ident.get("derived_from"),
            })

        def encode(self, inputs, *, task_metadata=None, hf_split=None, hf_subset=None, prompt_type=None, **kwargs):
            texts = [t for batch in inputs for t in batch["text"]]
            return inner.encode(texts)

    return AfroadvEncoder()
