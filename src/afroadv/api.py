"""The Python API: the CLI's commands as functions that return objects instead of writing files.

Each function checks its input with the same rules as the command (one-line AfroadvError) and calls
the same library code, so `afroadv.generate(...)` gives the records `afroadv generate` writes and
`afroadv.evaluate(...)` the document `afroadv evaluate --out` writes. Heavy packages (torch,
transformers, datasets) load inside the functions that need them.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from afroadv.errors import AfroadvError

if TYPE_CHECKING:
    from afroadv.attack.runner import AttackRun
    from afroadv.check import CheckResult
    from afroadv.generate import GeneratedSet

Model = Union[str, os.PathLike, Callable[[list], Any], Any]  # a name, a folder, a model object or a function

__all__ = ["attack", "check", "evaluate", "generate", "perturb"]


def perturb(text: str, lang: str, recipe: str, seed: int = 0, rate: float | None = None, *,
            id: str = "text", context: Sequence[str] | None = None, script: str | None = None) -> str:
    """`text` perturbed by `recipe`: what `generate` writes for a pair with this first sentence and
    this `id` (each pair draws from the stream seed × recipe × language × id). `context` is the
    dataset's texts, from which names written with a capital are learned (default: the text itself);
    for a language outside the registry (an ISO 639-3 code) its script and letters are learned from
    them too (`script` forces the script; names without case are learned only by `generate` from a
    dataset with English translations)."""
    from afroadv.data.pairs import Pair
    from afroadv.generate import check_rate
    from afroadv.learned import language_for_texts
    from afroadv.options import check_seed
    from afroadv.perturb.recipe import load_recipe
    from afroadv.text import nfc
    from afroadv.words import TextContext

    if not isinstance(text, str):
        raise AfroadvError(f"perturb() takes a text (str), got {type(text).__name__}")
    seed, rate = check_seed(seed), check_rate(rate)
    texts = [text] if context is None else list(context)
    language = language_for_texts(lang, texts, script, "context" if context is not None else "the text")
    perturber = load_recipe(recipe).perturber(language, rate=rate, sides="first", context=TextContext.learn(texts),
                                              set_texts=texts)
    pair = Pair(str(id), language.code, "sts", nfc(text), "")
    first, _ = perturber.perturb_batch([pair], seed)[0]
    return pair.sentence1 if first is None else first[0]


def generate(lang: str, recipe: str, dataset: str | None = None, seed: int = 0, *, split: str = "test",
             rate: float | None = None, sides: str | None = None, limit: int | None = None,
             script: str | None = None) -> GeneratedSet:
    """A perturbed copy of a dataset (default: the language's own), as `afroadv generate` makes it:
    `.records`, `.manifest`, `.to_hf()` and `.save(path)`. A language outside the registry (an ISO
    639-3 code) is learned from `dataset` (`script` forces its script)."""
    from afroadv.generate import generate as run

    return run(lang, recipe, dataset=dataset, split=split, seed=seed, rate=rate, sides=sides, limit=limit, script=script)


def evaluate(model: Model | Sequence[Model], lang: str | None = None, recipes: str | Sequence[str] | None = None, *,
             dataset: str | None = None, split: str = "test", sets: Sequence[str | os.PathLike] | None = None,
             seed: int = 0, seeds: Sequence[int] | None = None, limit: int | None = None, bootstrap: int = 1000,
             batch_size: int = 32, prompt: str | None = None, name: str | None = None, device: str | None = None, kind: str | None = None,
             threads: int | None = None, trust_remote_code: bool = False, allow_pickle: bool = False,
             retrieval_k: int = 100, out: str | os.PathLike | None = None, quiet: bool = True,
             dir_margin: float = 0.0, script: str | None = None, dtype: str | None = None) -> dict:
    """The results document `afroadv evaluate` writes: clean and perturbed scores with bootstrap CIs.

    `model`: an alias, a folder, a hub id, a `SentenceTransformer` or `CrossEncoder` object, an
    object with `.encode(list[str]) -> array`, or such a function (or a list of these). In-memory
    models are named by `name` (default: their class or function name), run where they already are
    (`device`, `kind` and the loading switches apply to named models) and never use the persistent
    embedding cache. Sets come from `lang` + `recipes` ('all': every recipe the language
    supports), or from files written by `generate`/`attack` (`sets`); a language outside the registry
    is learned from `dataset` (`script` forces its script), as in `generate`. `prompt` goes before every
    text the model sees (None: the model's own, e.g. e5's "query: "). `retrieval_k`: candidates of
    invariance self-retrieval. Directional sets (`expect: decrease`) give `directional_pass_rate`
    rows: a changed pair passes when its similarity falls by at least `dir_margin`. `seeds=[0, 1, 2]`
    (instead of `seed`) draws each set once per seed and pools them: one row per set, its drop the
    mean over draws with a CI over pairs × draws, each seed's own row under `per_seed`. `dtype`: fp32 |
    bf16 | fp16 (None: bf16 on GPUs and on CPUs with native bf16, else fp32). `out` also writes the JSON."""
    from afroadv.data.writers import check_destination
    from afroadv.evaluate import build_sets, check_evaluate_options, read_sets, write_results
    from afroadv.evaluate import evaluate as run
    from afroadv.models.inmemory import as_model, is_in_memory
    from afroadv.options import check_dtype, check_prompt, check_seeds

    if seeds is not None:
        if seed != 0:
            raise AfroadvError("give seed= or seeds=, not both")
        seeds = check_seeds(seeds, "seeds=")
    if out is not None:
        check_destination(Path(out), "results file")
    check_evaluate_options(bootstrap, seed, batch_size, threads, device, retrieval_k, dir_margin)
    check_prompt(prompt)
    check_dtype(dtype)
    models = list(model) if isinstance(model, (list, tuple)) else [model]
    if name is not None:
        if len(models) != 1 or not is_in_memory(models[0]):
            raise AfroadvError("name= names one in-memory model (a name, folder or hub id names itself)")
        models = [as_model(models[0], prompt=prompt, batch_size=batch_size)]
        models[0].name, models[0].model_id = name, f"in-memory:{name}"
    if sets:
        if lang or recipes or script:
            raise AfroadvError("give either sets= or lang= with recipes= (and script=), not both")
        if seeds is not None:
            raise AfroadvError("seeds= draws sets from lang= and recipes=; a sets= file was drawn under its own seed")
        eval_sets = read_sets([Path(s) for s in sets])
    else:
        if not lang or not recipes:
            raise AfroadvError("give lang= and recipes= (or sets=[files])")
        names = [r.strip() for r in recipes.split(",") if r.strip()] if isinstance(recipes, str) else list(recipes)
        eval_sets = build_sets(lang, names, dataset, split, seeds or seed, limit, script)
    doc = run(models, eval_sets, n_boot=bootstrap, seed=seed, batch_size=batch_size, device=device, kind=kind,
              trust_remote_code=trust_remote_code, allow_pickle=allow_pickle, threads=threads, quiet=quiet,
              prompt=prompt, retrieval_k=retrieval_k, dir_margin=dir_margin, dtype=dtype)
    if out is not None:
        write_results(Path(out), doc)
    return doc


def attack(model: str | os.PathLike, lang: str, recipe: str = "charnoise", *, out: str | os.PathLike,
           resume: bool = False, progress: bool = False, **options) -> AttackRun:
    """`afroadv attack`: the worst perturbation within the budget for every pair, written to `out`
    (adversarial set + manifest, log, summary); returns the run (`.summary`, `.records`, `.timing`).
    `options` are AttackConfig's fields (limit, seed, budget, delta, goal, search, prompt, ...)."""
    from dataclasses import fields

    from afroadv.attack.runner import AttackConfig, run_attack

    known = {f.name for f in fields(AttackConfig)} - {"model", "lang", "recipe"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise AfroadvError(f"attack() has no option {unknown[0]!r} (options: {', '.join(sorted(known))})")
    if not isinstance(model, (str, os.PathLike)):
        raise AfroadvError("attack() takes a model name, folder or hub id (in-memory models: evaluate only)")
    cfg = AttackConfig(model=os.fspath(model), lang=lang, recipe=recipe, **options)
    return run_attack(cfg, Path(out), resume=resume, progress=progress)


def check(results: dict | str | os.PathLike, baseline: dict | str | os.PathLike, *,
          max_drop_increase: float | None = None, max_clean_decrease: float | None = None,
          min_clean: float | None = None, thresholds: str | os.PathLike | None = None,
          match_on: str | None = None, allow_dtype_mix: bool = False) -> CheckResult:
    """`afroadv check`: compare results (a document from `evaluate`, or its file) with a baseline;
    `.passed` is False on a regression. Unusable input raises AfroadvError. `allow_dtype_mix`:
    compare results computed in another dtype than the baseline's (`--allow-dtype-mix`)."""
    from afroadv.check import check as run

    with tempfile.TemporaryDirectory(prefix="afroadv-check-") as tmp:
        paths = [_as_file(doc, Path(tmp) / f"{role}.json") for doc, role in ((results, "results"), (baseline, "baseline"))]
        return run(paths[0], paths[1], max_drop_increase=max_drop_increase, max_clean_decrease=max_clean_decrease,
                   min_clean=min_clean, thresholds=None if thresholds is None else Path(thresholds), match_on=match_on,
                   allow_dtype_mix=allow_dtype_mix)


def _as_file(doc: dict | str | os.PathLike, where: Path) -> Path:
    """A results document as the file `afroadv check` reads (a path stays a path)."""
    if isinstance(doc, dict):
        from afroadv.data.writers import dumps_json

        where.write_text(dumps_json(doc, indent=2) + "\n", encoding="utf-8")
        return where
    if isinstance(doc, (str, os.PathLike)):
        return Path(doc)
    raise AfroadvError(f"check() takes a results document (dict) or a file path, got {type(doc).__name__}")


class Entry:
    """An API function under the name of a submodule (afroadv.generate the function, afroadv/generate.py
    the module): calling it calls the function; any other attribute is the submodule's, so
    `import afroadv.attack.core as core` and `afroadv.perturb.recipe` keep working."""

    def __init__(self, name: str):
        function = globals()[name]
        self.__name__ = self.__qualname__ = name
        self.__doc__ = function.__doc__
        self.__wrapped__ = function  # inspect.signature and help() show the function's
        self.__module__ = __name__

    def __call__(self, *args, **kwargs):
        return self.__wrapped__(*args, **kwargs)

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(f"afroadv.{self.__name__}"), attr)

    def __repr__(self) -> str:
        return f"<afroadv.{self.__name__} (function; afroadv/{self.__name__} is its module)>"


class Package(types.ModuleType):
    """The afroadv package: importing a submodule named like an API function leaves the function in place
    (the submodule stays in sys.modules and reachable through the Entry)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(self.__dict__.get(name), Entry) and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)

