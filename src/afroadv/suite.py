"""`generate` over several languages and recipes: a suite folder holding one set (data + manifest)
per language × recipe, and one index, `suite.json`, written last.

Everything that can be refused is refused before the first set is generated: the folder and every
destination in it, each language, each recipe and whether it runs on each language, each language's
dataset. Each set is written atomically with its manifest (data/writers.py); the index (every set's
file, sha256 and counts, the seed, the afroadv version) goes last, so a folder with a suite.json is a
whole suite, and a rerun with the same options and seed writes byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

from afroadv import __version__
from afroadv.errors import AfroadvError

SUITE_INDEX = "suite.json"
SUITE_KIND = "afroadv-suite"
SET_SUFFIXES = (".jsonl", ".parquet")


def is_suite_request(langs: list[str], recipes: list[str]) -> bool:
    """Several languages or recipes (or `all`) make a suite; one of each is one set file, as ever."""
    return len(langs) != 1 or len(recipes) != 1 or recipes == ["all"]


def plan_suite(langs: list[str], recipes: list[str], languages_given: dict | None = None) -> list[tuple[str, str]]:
    """(language code, recipe) of every set, languages first; 'all' = each language's supported recipes.
    An unknown name, or a named recipe that does not run on a named language, is one AfroadvError.
    `languages_given`: Language objects by name (languages outside the registry, learned from data)."""
    from afroadv.langs import get_language
    from afroadv.perturb import load_recipe
    from afroadv.perturb.recipe import recipes_for

    if not langs:
        raise AfroadvError("--lang: give at least one language")
    if not recipes:
        raise AfroadvError("--recipe: give at least one recipe, or all")
    if "all" in recipes and recipes != ["all"]:
        raise AfroadvError("--recipe all stands alone (it already means every recipe the language supports)")
    languages = {}
    for name in langs:  # aliases of one language (ha, hau) make one language
        lang = (languages_given or {}).get(name) or get_language(name)
        languages.setdefault(lang.code, lang)
    named = [] if recipes == ["all"] else [(name, load_recipe(name)) for name in dict.fromkeys(recipes)]  # as given
    plan = []
    for lang in languages.values():
        if recipes == ["all"]:
            names = [r.name for r in recipes_for(lang)]
            if not names:
                raise AfroadvError(f"no recipe supports {lang.code}")
            plan += [(lang.code, name) for name in names]
            continue
        for name, r in named:
            why = r.refusal(lang)
            if why:
                raise AfroadvError(f"{why}; {lang.code} cannot be in this suite (--recipe all gives what each "
                                   "language supports)")
            plan.append((lang.code, name))
    return plan


def set_filename(lang: str, recipe: str, suffix: str = ".jsonl") -> str:
    return f"{lang}-{Path(recipe).stem if recipe.endswith(('.yaml', '.yml')) else recipe}{suffix}"


def generate_suite(langs: list[str], recipes: list[str], out: Path, *, dataset: str | None = None, split: str = "test",
                   seed: int = 0, rate: float | None = None, sides: str | None = None, limit: int | None = None,
                   progress: bool | None = None, script: str | None = None) -> dict:
    """Write the suite into `out` and return its index (also `out/suite.json`)."""
    from afroadv.data.catalog import load_dataset
    from afroadv.data.writers import check_out_dir, check_set_destination, dumps_json, write_text_atomic
    from afroadv.generate import generate, write_set
    from afroadv.langs import find_language, get_language
    from afroadv.learned import language_and_dataset
    from afroadv.options import check_limit, check_seed
    from afroadv.progress import track
    from afroadv.resources import sha256_file

    seed, limit = check_seed(seed), check_limit(limit)
    out = check_out_dir(Path(out), "suite folder")
    if out.suffix.lower() in SET_SUFFIXES and not out.is_dir():
        raise AfroadvError(f"a suite is a folder of sets, not one {out.suffix} file: give --out a folder")
    learned = {}  # languages outside the registry, learned from the dataset before the plan can be checked
    for name in langs:
        if find_language(name) is None or script is not None:
            learned[name] = language_and_dataset(name, dataset, split, script)[0]
    plan = plan_suite(langs, recipes, learned)
    given = {lang.code: name for name, lang in learned.items()}  # generate learns them again from the name (kab-Latn)
    files = [out / set_filename(code, recipe) for code, recipe in plan]
    if len(set(files)) != len(files):
        raise AfroadvError("two recipes of this suite share a name; give each once")
    for f in files:
        check_set_destination(f)
    for name in langs:
        if name not in learned:
            load_dataset(get_language(name), dataset, split)  # a missing set fails here, not after other sets
    out.mkdir(parents=True, exist_ok=True)
    (out / SUITE_INDEX).unlink(missing_ok=True)  # an index is only ever beside the sets it describes
    sets = []
    for (code, recipe), path in track(list(zip(plan, files)), "suite sets", enabled=progress):
        gs = generate(given.get(code, code), recipe, dataset=dataset, split=split, seed=seed, rate=rate, sides=sides, limit=limit,
                      script=script)
        manifest = write_set(path, gs)
        st = gs.manifest["stats"]
        sets.append({"lang": code, "recipe": gs.manifest["recipe"]["name"], "dataset": gs.manifest["dataset"]["name"],
                     "file": path.name, "manifest": manifest.name, "sha256": sha256_file(path),
                     "n": st["n"], "n_changed": st["n_changed"]})
    index = {
        "kind": SUITE_KIND,
        "afroadv_version": __version__,
        "seed": seed,
        "options": {"langs": list(dict.fromkeys(c for c, _ in plan)), "recipes": list(recipes), "dataset": dataset,
                    "split": split, "rate": rate, "sides": sides, "limit": limit, **({"script": script} if script else {})},
        "sets": sets,
    }
    write_text_atomic(out / SUITE_INDEX, dumps_json(index, indent=2, sort_keys=True) + "\n")
    return index
