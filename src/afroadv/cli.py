"""The `afroadv` command line: thin commands that parse options and call one function each.

Every bad input raises AfroadvError, printed as one line with exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from afroadv.attack.command import attack_command
from afroadv.errors import AfroadvError
from afroadv.options import (ALLOW_PICKLE_HELP, DIR_MARGIN_HELP, DTYPE_HELP, PROMPT_HELP, RETRIEVAL_K_HELP, SCRIPT_HELP,
                             SEEDS_HELP, TRUST_REMOTE_CODE_HELP, check_seeds)

app = typer.Typer(
    name="afroadv",
    help="Adversarial and out-of-domain similarity test sets for African languages, and how much encoders lose on them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
lexicon_app = typer.Typer(help="Bilingual lexicons: build the shipped ones, induce new ones from parallel text.", no_args_is_help=True)
app.add_typer(lexicon_app, name="lexicon")
validate_app = typer.Typer(help="Human review of generated sets: sample a sheet, review it (CSV or an offline page), score the judgments.", no_args_is_help=True)
app.add_typer(validate_app, name="validate")
app.command("attack")(attack_command)  # afroadv/attack/command.py (imports nothing heavy)


def _console():
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)  # piped output: don't wrap cells


@app.command()
def generate(
    lang: str = typer.Option(..., "--lang", "-l", help="Language code or alias: hau, ha, sw, swh, am, kin, yo ... (see `afroadv langs`), or any ISO 639-3 code with --dataset (kab, arq ...: script and letters learned from that text); several, comma-separated, make a suite."),
    recipe: str = typer.Option(..., "--recipe", "-r", help="Recipe name (see `afroadv recipes`) or a path to a recipe YAML; several, comma-separated, or all (each language's recipes) make a suite."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .jsonl or .parquet; a .manifest.json is written beside it. A suite: a folder (one set per language x recipe, and suite.json)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="semrel | tatoeba | ntrex | tweets | bible | news (unlabelled text) | news-graded | bible-graded (ordinal levels) | a file (SemRel CSV, STS-B TSV, csv/tsv/jsonl with sentence1,sentence2[,score]). Default: SemRel test where gold scores exist, else the language's bitext set."),
    split: str = typer.Option("test", "--split", help="Split for catalogue datasets (semrel: test or dev)."),
    seed: int = typer.Option(0, "--seed", help="Every random choice flows from this seed: same seed, byte-identical output."),
    rate: Optional[float] = typer.Option(None, "--rate", help="Share of eligible words to perturb (default: the recipe's)."),
    sides: Optional[str] = typer.Option(None, "--sides", help="both | first | second | either (one side per pair, chosen by the seed); bitext sets always perturb the non-English side."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N pairs."),
    script: Optional[str] = typer.Option(None, "--script", help=SCRIPT_HELP),
):
    """Write a perturbed copy of a dataset: one record per input pair.

    Example: afroadv generate --lang hau --recipe codeswitch --out hau-codeswitch.jsonl
    Suite:   afroadv generate --lang hau,kin --recipe all --out suite/
    Outside the registry: afroadv generate --lang kab --dataset kab.txt --recipe charnoise --out kab.jsonl
    """
    from afroadv.data.writers import check_set_destination
    from afroadv.generate import generate as run, write_set
    from afroadv.suite import SUITE_INDEX, generate_suite, is_suite_request

    langs, recipes = _split_list([lang]), _split_list([recipe])
    if is_suite_request(langs, recipes):
        index = generate_suite(langs, recipes, out, dataset=dataset, split=split, seed=seed, rate=rate, sides=sides,
                               limit=limit, script=script)
        sets = index["sets"]
        typer.echo(f"wrote {len(sets)} sets ({sum(x['n'] for x in sets)} pairs, {len(index['options']['langs'])} "
                   f"language(s)) to {out}; index {Path(out) / SUITE_INDEX}")
        return
    check_set_destination(out)
    gs = run(lang, recipe, dataset=dataset, split=split, seed=seed, rate=rate, sides=sides, limit=limit,
             progress=sys.stderr.isatty(), script=script)
    manifest = write_set(out, gs)
    st = gs.manifest["stats"]
    typer.echo(
        f"wrote {st['n']} pairs to {out} ({st['n_changed']} changed, {100 * st['changed_share']:.1f}%; "
        f"mean edit rate {100 * st['mean_edit_rate']:.1f}% of words; {_rates(st)}); manifest {manifest}"
    )


def _rates(st: dict) -> str:
    if st.get("realised_rate") is None:
        return "no rewritable words"
    return f"rate {100 * st['realised_rate']:.1f}% of rewritable words for nominal {100 * st['nominal_rate']:.0f}%"


@app.command()
def langs():
    """List languages: codes, aliases, script, default dataset, resources and lexicon size.

    Only sets whose files are on this machine are listed ('-': give `generate --dataset PATH`)."""
    from rich.table import Table

    from afroadv.langs import registry
    from afroadv.data.catalog import available_datasets, default_dataset
    from afroadv.lexicons.store import lexicon_coverage, load_lexicon

    table = Table(title="afroadv languages (coverage: lexicon share of SemRel test word types / tokens)")
    for col in ("code", "aliases", "name", "script", "default set", "datasets", "keyboard", "stop words", "lexicon words", "coverage"):
        table.add_column(col)
    coverage = lexicon_coverage()
    for lang in registry().values():
        lex = load_lexicon(lang.lexicon)
        aliases = ", ".join(a for a in (lang.iso1, *lang.aliases) if a)
        cov = coverage.get(lang.lexicon or "")
        table.add_row(
            lang.code, aliases, lang.name, lang.script, default_dataset(lang) or "-", ", ".join(available_datasets(lang)) or "-",
            lang.keyboard or "-", str(len(lang.stopword_set()) or "-"), str(len(lex)) if len(lex) else "-",
            f"{100 * cov['type_coverage']:.1f}% / {100 * cov['token_coverage']:.1f}%" if cov else "-",
        )  # fmt: skip
    _console().print(table)
    from afroadv.data.catalog import learnable_shipped
    from afroadv.learned import script_level_recipes

    typer.echo("Any other ISO 639-3 code (kab, arq, mey ...) works with --dataset FILE: its script and letters are "
               f"learned from that text, for the script-level recipes ({', '.join(script_level_recipes())}); "
               f"NTREX-128 ships for {' '.join(learnable_shipped())} (--dataset ntrex).")


@app.command()
def recipes():
    """List recipes with a one-line description and the languages each supports."""
    from rich.table import Table

    from afroadv.perturb import list_recipes

    table = Table(title="afroadv recipes (recipes/*.yaml)")
    for col in ("recipe", "expect", "rate", "sides", "description", "languages"):
        table.add_column(col, overflow="fold")
    for r in list_recipes():
        outside = " + any ISO 639-3 code with --dataset" if r.script_level else ""
        table.add_row(r.name, r.expect, f"{r.rate:g}", r.sides, r.description, " ".join(r.supported_languages()) + outside)
    _console().print(table)


def _seed_options(seed: int | None, seeds: str | None) -> tuple[int, list[int] | None]:
    """`--seed N` (default 0) or `--seeds a,b,c` (checked), never both."""
    if seed is not None and seeds is not None:
        raise AfroadvError("give --seed or --seeds, not both (--seeds 0,1,2 pools several draws)")
    return (0 if seed is None else seed), (None if seeds is None else check_seeds(seeds))


def _split_list(values: list[str] | None) -> list[str]:
    """`--recipe a,b --recipe c` → [a, b, c]."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@app.command()
def evaluate(
    model: list[str] = typer.Option(["e5-small"], "--model", "-m", help="Alias (see `afroadv models`), local folder or hub id; repeat or comma-separate for a size comparison."),
    lang: Optional[str] = typer.Option(None, "--lang", "-l", help="Language to generate sets for (with --recipe); any ISO 639-3 code with --dataset, as for generate."),
    recipe: Optional[list[str]] = typer.Option(None, "--recipe", "-r", help="Recipes, comma-separated or repeated: charnoise,codeswitch ... ('all' = every recipe the language supports)."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="As for generate (tweets | bible | news: invariance; news-graded | bible-graded: ordinal)."),
    split: str = typer.Option("test", "--split"),
    sets: Optional[list[Path]] = typer.Option(None, "--sets", help="Score sets written by `afroadv generate` / `afroadv attack` instead of generating."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for perturbations and bootstrap resampling (default 0)."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help=SEEDS_HELP),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N pairs."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the 95% CIs."),
    batch_size: int = typer.Option(32, "--batch-size"),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (default: cuda if available)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    kind: Optional[str] = typer.Option(None, "--kind", help="bi | cross: force how a folder or hub model scores pairs."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help=TRUST_REMOTE_CODE_HELP),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help=ALLOW_PICKLE_HELP),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads (default: torch's; 1 is faster on a machine shared with other busy processes)."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help=PROMPT_HELP),
    retrieval_k: int = typer.Option(100, "--retrieval-k", help=RETRIEVAL_K_HELP),
    dir_margin: float = typer.Option(0.0, "--dir-margin", help=DIR_MARGIN_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Results JSON (a top-level `results` list plus the manifest that produced it)."),
    script: Optional[str] = typer.Option(None, "--script", help=SCRIPT_HELP),
):
    """Score clean and perturbed sets; report the drop with a paired bootstrap 95% CI.

    Gold STS → Spearman/Pearson ×100; ordinal sets (news-graded, bible-graded) → Spearman against
    the relatedness level; bitext → retrieval accuracy@1 (both directions); unlabelled text →
    invariance 0–100 (100: as close as the original itself, 0: as close as a random sentence) and
    self-retrieval accuracy@1, beside a wordswap control changing as many words.

    --seeds 0,1,2 draws each set once per seed and reports one row per set: the mean drop with a CI
    over pairs x draws, each seed's own values under per_seed.

    Example: afroadv evaluate --model e5-small --lang hau --recipe charnoise,codeswitch --out r.json
    """
    from afroadv.api import evaluate as run
    from afroadv.evaluate import format_table

    recipes = _split_list(recipe)
    seed, seeds = _seed_options(seed, seeds)
    if not sets and (not lang or not recipes):
        raise AfroadvError("give --lang and --recipe (or --sets FILE ...)")
    if sets and script:
        raise AfroadvError("--script goes with --lang and --dataset; a --sets file carries its own language profile")
    where = {"sets": list(sets)} if sets else {"lang": lang, "recipes": recipes, "script": script}
    doc = run(_split_list(model), **where, dataset=dataset, split=split, seed=seed, seeds=seeds, limit=limit, bootstrap=bootstrap,
              batch_size=batch_size, prompt=prompt, device=device, kind=kind, threads=threads, retrieval_k=retrieval_k,
              trust_remote_code=trust_remote_code, allow_pickle=allow_pickle, out=out, quiet=False, dir_margin=dir_margin,
              dtype=dtype)
    typer.echo(format_table(doc))
    typer.echo(f"results: {out}")


@app.command()
def train(
    model: str = typer.Option(..., "--model", "-m", help="Base model: alias (xlmr-base, e5-small, tiny-xlmr ...), local folder or hub id."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: a sentence-transformers model (safetensors) with a model card."),
    data: str = typer.Option("stsb", "--data", "-d", help="stsb (../shared/data/stsbenchmark, else the hub) or a file/folder: STS-B TSV, or csv/tsv/jsonl/parquet with sentence1, sentence2, score."),
    method: str = typer.Option("plain", "--method", help="plain | rs-da (randomized smoothing with data augmentation) | codeswitch-aug | consistency (the STS loss plus λ × a consistency loss pulling each perturbed unlabeled African-language sentence towards the embedding of the clean one, see --consistency-target; no target-language labels)."),
    recipes: Optional[list[str]] = typer.Option(None, "--recipes", "-r", help="afroadv recipes applied to the augmented copies, comma-separated or repeated; consistency: the recipes that perturb the unlabeled text (default charnoise,codeswitch,translit, each where it applies)."),
    unlabeled: Optional[list[str]] = typer.Option(None, "--unlabeled", help="consistency: unlabeled text, comma-separated or repeated: ntrex, tweets, tatoeba, bible (each for every --langs language that ships it), LANG:PATH or PATH (one sentence per line). Default: all four catalogue sources. A source sharing a sentence with any SemRel test/dev set or a language's default evaluation set is refused."),
    consistency_weight: float = typer.Option(30.0, "--consistency-weight", help="consistency: λ, the weight of the consistency loss (1 − cosine, about 0.03 per sentence) against the STS loss (CoSENT, about 4)."),
    consistency_target: str = typer.Option("frozen", "--consistency-target", help="consistency: what the perturbed sentence is pulled towards — frozen: the starting model's embedding of the clean sentence (computed once through the embedding cache); self: the model's own, recomputed each step without gradient. Neither cut the drop in the measured experiment (docs/training.md)."),
    copies: int = typer.Option(1, "--copies", "-k", help="Augmented copies per training pair (K)."),
    epochs: float = typer.Option(1.0, "--epochs"),
    seed: int = typer.Option(0, "--seed", help="Seeds the subset, every augmentation draw, initialisation and data order."),
    head: str = typer.Option("bi", "--head", help="bi (sentence embeddings, cosine) | cross (joint pair scorer)."),
    loss: Optional[str] = typer.Option(None, "--loss", help="bi: cosent (default) | cosine; cross: bce (default) | mse."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after N optimizer steps (smoke runs; equal-compute comparisons)."),
    batch_size: int = typer.Option(16, "--batch-size"),
    lr: float = typer.Option(2e-5, "--lr"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on a seeded random subset of N pairs."),
    langs: Optional[list[str]] = typer.Option(None, "--langs", help="codeswitch-aug target languages; consistency: the languages of the unlabeled text (default afr,amh,hau,kin)."),
    switch_rate: float = typer.Option(0.5, "--switch-rate", help="codeswitch-aug: share of translatable English words replaced."),
    max_seq_length: int = typer.Option(128, "--max-seq-length", help="Truncation during training (the saved model keeps its own limit)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in OUT/checkpoints."),
    bf16: bool = typer.Option(False, "--bf16", help="bfloat16 mixed precision (GPU)."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="Trade compute for activation memory."),
    freeze_embeddings: bool = typer.Option(False, "--freeze-embeddings", help="Keep the word-embedding matrix fixed."),
    save_steps: int = typer.Option(500, "--save-steps", help="Checkpoint every N steps."),
    keep_checkpoints: bool = typer.Option(False, "--keep-checkpoints", help="Keep OUT/checkpoints after a successful run."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or cuda (default: cuda if available; several GPUs: accelerate launch)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads (default: torch's; 1 is faster on a machine shared with other busy processes)."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Text put before every training sentence and saved as the model's default prompt (default: the base model's own, e.g. e5-small's 'query: '; --prompt '' for none)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help=TRUST_REMOTE_CODE_HELP),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help=ALLOW_PICKLE_HELP),
):
    """Fine-tune an encoder on English STS with seeded perturbation augmentation.

    Example: afroadv train --model e5-small --method rs-da --copies 1 --epochs 1 --seed 0 --out models/e5-rsda
    Consistency: afroadv train --model e5-small --method consistency --langs afr,amh,hau,kin --out models/e5-cons
    GPUs: accelerate launch --config_file configs/accelerate/ddp.yaml -m afroadv.cli train ... --bf16
    """
    from afroadv.accelerate_env import check_accelerate_env
    from afroadv.train import TrainOptions, train as run

    check_accelerate_env()  # a GPU config without GPUs: one line, not a traceback per process
    opts = TrainOptions(
        model=model, out=out, data=data, method=method, recipes=tuple(_split_list(recipes)), copies=copies,
        epochs=epochs, seed=seed, head=head, loss=loss, max_steps=max_steps, batch_size=batch_size, lr=lr,
        limit=limit, langs=tuple(_split_list(langs)), switch_rate=switch_rate, max_seq_length=max_seq_length,
        resume=resume, bf16=bf16, gradient_checkpointing=gradient_checkpointing, freeze_embeddings=freeze_embeddings,
        save_steps=save_steps, keep_checkpoints=keep_checkpoints, trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle, device=device, threads=threads, prompt=prompt,
        unlabeled=tuple(_split_list(unlabeled)) if unlabeled else None, consistency_weight=consistency_weight,
        consistency_target=consistency_target,
    )  # fmt: skip
    info = run(opts)
    if info:
        t, st = info["training"], info["augmentation_stats"]
        what = (f"{st['originals']} pairs + {info['consistency']['draw_stats']['draws']} unlabeled draws"
                if "consistency" in info else f"{st['examples']} examples ({st['originals']} pairs + {st['copies']} copies)")
        typer.echo(f"trained {opts.method} on {what}: "
                   f"{t['global_steps']} steps in {t['seconds']:.0f} s, final loss {t['final_loss']}; model: {out}")


@app.command()
def models():
    """List model aliases: what each loads (hub id, or for offline builds what the weights really are),
    parameters, kind, and whether they work offline here."""
    from rich.table import Table

    from afroadv.models import list_models

    table = Table(title="afroadv models (or pass a local folder / hub id)")
    for col in ("alias", "model", "parameters", "kind", "offline", "note"):
        table.add_column(col)
    for m in list_models():
        params = f"{m.params / 1e9:.1f}B" if m.params >= 1e9 else f"{m.params / 1e6:.0f}M"
        ident = m.identity()
        name = m.hub_id if not ident["derived_from"] else f"{ident['label']}; from {ident['derived_from']}"
        table.add_row(m.alias, name, params, m.kind, "yes" if m.offline else "hub", m.note)
    _console().print(table)


@app.command()
def report(
    results: list[Path] = typer.Argument(..., help="Results files from `afroadv evaluate` (later files win on the same cell)."),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Output folder: report.md, report.html, PNG plots, report.csv, report.parquet."),
    formats: Optional[list[str]] = typer.Option(None, "--format", "-f", help="md, html (with PNG plots; the default: both), csv, parquet (one row per model x language x recipe x metric, for pandas); comma-separated or repeated."),
):
    """Markdown + one self-contained HTML page with plots: drop by recipe × language, drop vs model size;
    csv/parquet: the same numbers as one long table.

    Example: afroadv report results/*.json --format md,html,csv --out report/
    """
    from afroadv.report import build_report

    written = build_report(list(results), out, formats)
    for name, path in written.items():
        typer.echo(f"{name}: {path}")


@app.command()
def export(
    set_file: Path = typer.Argument(..., metavar="SET", help="A set from `afroadv generate` or `afroadv attack` (.jsonl or .parquet)."),
    fmt: str = typer.Option(..., "--format", "-f", help="hf: a folder `datasets.load_from_disk` reads; mteb: a custom STS task for MTEB."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (new, empty, or an earlier export, which is replaced)."),
    clean: bool = typer.Option(False, "--clean", help="Export the original sentences instead of the perturbed ones (the clean baseline)."),
):
    """Export a set for Hugging Face datasets or MTEB, with its manifest beside the data.

    Example: afroadv export hau-charnoise.jsonl --format mteb --out hau-charnoise-mteb/
    """
    from afroadv.export import export_set

    done = export_set(set_file, fmt, out, clean=clean)
    typer.echo(f"exported {set_file} as {fmt}{' (clean originals)' if clean else ''} to {done}")


@app.command()
def check(
    results: Path = typer.Argument(..., help="Results JSON from `afroadv evaluate` or a sweep's results.json."),
    baseline: Path = typer.Option(..., "--baseline", "-b", help="The committed baseline results JSON."),
    max_drop_increase: Optional[float] = typer.Option(None, "--max-drop-increase", help="Points a cell's drop (or invariance, 0-100) may worsen (default 1.0, or the thresholds file's)."),
    max_clean_decrease: Optional[float] = typer.Option(None, "--max-clean-decrease", help="Points a clean score may fall (default 1.0, or the thresholds file's)."),
    min_clean: Optional[float] = typer.Option(None, "--min-clean", help="Hard floor for every clean STS/bitext score (x100), whatever its CI."),
    thresholds: Optional[Path] = typer.Option(None, "--thresholds", help="YAML with per-task / per-language / per-recipe / per-cell limits."),
    match_on: str = typer.Option("auto", "--match-on", help="Cell key: auto (model,lang,dataset,recipe; without model when each file has one model) or a comma list of model,lang,dataset,recipe."),
    update: bool = typer.Option(False, "--update-baseline", help="Show the comparison, then write RESULTS over the baseline (atomically) and exit 0."),
    all_cells: bool = typer.Option(False, "--all", help="List every cell, not only those over a limit."),
    allow_dtype_mix: bool = typer.Option(False, "--allow-dtype-mix", help="Compare results computed in another dtype than the baseline's (bf16 vs fp32); refused by default."),
):
    """Robustness gate for CI: exit 0 within thresholds, 1 on a regression, 2 on unusable input.

    A cell regresses when it is worse by more than its limit AND the baseline value lies outside the new result's bootstrap 95% CI (so noise does not fail builds), or its clean score is under --min-clean.

    Results made with --seeds are gated on their pooled values (CI over pairs x draws) and compared only with a baseline drawn under the same seeds.

    Example: afroadv check sweep/results.json --baseline baselines/e5-small.json
    """
    from afroadv.check import check as run, format_check, update_baseline, validate_results

    kwargs = {"max_drop_increase": max_drop_increase, "max_clean_decrease": max_clean_decrease, "min_clean": min_clean,
              "thresholds": thresholds, "match_on": match_on, "allow_dtype_mix": allow_dtype_mix}
    if update:
        from afroadv.data.writers import check_destination

        check_destination(baseline, "baseline")
        validate_results(results)  # an unusable results file never becomes the baseline (exit 2)
        if baseline.exists():
            try:
                typer.echo(format_check(run(results, baseline, **kwargs), all_cells=all_cells))
            except AfroadvError as e:
                typer.echo(f"note: the old baseline is not comparable ({e})")
        update_baseline(results, baseline)
        typer.echo(f"baseline updated: {baseline}")
        return
    cr = run(results, baseline, **kwargs)
    typer.echo(format_check(cr, all_cells=all_cells))
    if not cr.passed:
        sys.stdout.flush()
        sys.exit(1)  # typer.Exit(1) would be swallowed by main()'s non-standalone app() call


@app.command()
def sweep(
    models: list[str] = typer.Option(..., "--models", "-m", help="Models, comma-separated or repeated (aliases, folders, hub ids)."),
    langs: list[str] = typer.Option(..., "--langs", "-l", help="Languages, comma-separated or repeated."),
    recipes: list[str] = typer.Option(..., "--recipes", "-r", help="Recipes, comma-separated, or 'all' (each language's supported recipes)."),
    out: Path = typer.Option(..., "--out", "-o", help="Sweep folder: cells/<model>__<lang>.json, results.json, report/."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="As for evaluate (default: each language's default set)."),
    split: str = typer.Option("test", "--split"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N pairs per language."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for perturbations and bootstrap resampling (default 0)."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help=SEEDS_HELP),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the 95% CIs."),
    batch_size: int = typer.Option(32, "--batch-size"),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda ... (cuda makes every cell a GPU cell on Dask)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    backend: str = typer.Option("local", "--backend", help="local (cells one by one here) or dask (one task per cell)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Existing Dask scheduler, e.g. tcp://HOST:8786 (default: a LocalCluster on 127.0.0.1)."),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the LocalCluster (without --scheduler)."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the Markdown/HTML report."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help=TRUST_REMOTE_CODE_HELP),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help=ALLOW_PICKLE_HELP),
    prompt: Optional[str] = typer.Option(None, "--prompt", help=PROMPT_HELP),
    dir_margin: float = typer.Option(0.0, "--dir-margin", help=DIR_MARGIN_HELP),
    retrieval_k: int = typer.Option(100, "--retrieval-k", help=RETRIEVAL_K_HELP),
):
    """Evaluate a models x languages grid; resumable (finished cells are skipped); merged results + report.

    One cell = one model on one language with all recipes (one evaluate call, one file).

    Example: afroadv sweep --models e5-small --langs hau,kin --recipes charnoise,codeswitch --out sweep/
    """
    from afroadv.sweep import plan_cells, run_sweep

    seed, seeds = _seed_options(seed, seeds)
    cells = plan_cells(_split_list(models), _split_list(langs), _split_list(recipes), dataset=dataset, split=split, seed=seed,
                       seeds=seeds, limit=limit, bootstrap=bootstrap, batch_size=batch_size, device=device,
                       trust_remote_code=trust_remote_code, allow_pickle=allow_pickle, prompt=prompt, dir_margin=dir_margin,
                       retrieval_k=retrieval_k, dtype=dtype)
    summary = run_sweep(cells, out, backend=backend, scheduler=scheduler, workers=workers, report=not no_report)
    typer.echo(f"{summary.cells} cell(s): {summary.ran} run, {summary.skipped} skipped (finished earlier) in {summary.seconds}s")
    typer.echo(f"results: {summary.results}")
    for name, path in summary.report.items():
        typer.echo(f"{name}: {path}")


@app.command()
def study(
    models: list[str] = typer.Option(..., "--models", "-m", help="Base models, comma-separated or repeated: xlmr-base,xlmr-large,xlmr-xl,xlmr-xxl (hub), e5-small, tiny-xlmr, random:xlmr-large ..."),
    methods: list[str] = typer.Option(["plain,rs-da,consistency"], "--methods", help="Training methods, comma-separated: plain, rs-da, codeswitch-aug, consistency."),
    langs: list[str] = typer.Option(..., "--langs", "-l", help="Evaluation languages (SemRel test); also codeswitch-aug's targets and consistency's unlabeled text."),
    recipes: list[str] = typer.Option(..., "--recipes", "-r", help="Recipes to evaluate, comma-separated, or 'all' (each language's meaning-keeping ones); each language gets those it supports."),
    out: Path = typer.Option(..., "--out", "-o", help="Study folder: models/, eval/, study.md, study.json, drop_vs_size.png."),
    seeds: str = typer.Option("0,1,2", "--seeds", help="Evaluation seeds, pooled (pairs x draws)."),
    seed: int = typer.Option(0, "--seed", help="Training seed (subset, augmentation, initialisation, order)."),
    data: str = typer.Option("stsb", "--data", "-d", help="Training data, as for train."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Train on a seeded subset of N pairs."),
    epochs: float = typer.Option(1.0, "--epochs"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Optimizer steps per training cell (equal for every method)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Training batch size."),
    lr: float = typer.Option(2e-5, "--lr"),
    max_seq_length: int = typer.Option(128, "--max-seq-length", help="Truncation during training."),
    freeze_embeddings: bool = typer.Option(False, "--freeze-embeddings", help="Keep the word-embedding matrix fixed."),
    copies: int = typer.Option(1, "--copies", "-k", help="rs-da / codeswitch-aug: augmented copies per pair."),
    consistency_weight: float = typer.Option(30.0, "--consistency-weight", help="consistency: λ."),
    consistency_target: str = typer.Option("frozen", "--consistency-target", help="consistency: frozen (the starting model's clean embedding, through the cache) or self (the model's own, without gradient)."),
    unlabeled: Optional[list[str]] = typer.Option(None, "--unlabeled", help="consistency: unlabeled text sources, as for train (default: ntrex, tweets, tatoeba, bible)."),
    train_recipes: Optional[list[str]] = typer.Option(None, "--train-recipes", help="consistency: recipes that perturb the unlabeled text (default charnoise,codeswitch,translit where they apply)."),
    bf16: bool = typer.Option(False, "--bf16", help="Training in bfloat16 mixed precision (GPU)."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing"),
    save_steps: int = typer.Option(500, "--save-steps", help="Checkpoint every N steps (a killed cell resumes)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads per process."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or cuda, for training and evaluation (default: cuda if available)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    eval_batch_size: int = typer.Option(32, "--eval-batch-size"),
    eval_limit: Optional[int] = typer.Option(None, "--eval-limit", help="Evaluate only the first N pairs per language (smoke runs)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the 95% CIs."),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Do not evaluate the models before fine-tuning."),
    backend: str = typer.Option("local", "--backend", help="local (cells one by one here) or dask (one task per cell)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Existing Dask scheduler, e.g. tcp://HOST:8786 (default: a LocalCluster on 127.0.0.1)."),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the LocalCluster (without --scheduler)."),
):
    """Train every model with every method, evaluate each (and each model untrained) on every
    language x recipe pooled over seeds, and report the drop against model size.

    Resumable cell by cell: re-run the same command after an interruption.

    Example (GPU, the four hub sizes): afroadv study --models xlmr-base,xlmr-large,xlmr-xl,xlmr-xxl
    --methods plain,rs-da,consistency --langs afr,amh,hau,kin --recipes all --seeds 0,1,2 --bf16 --out study/
    """
    from afroadv.options import check_seeds
    from afroadv.study import plan_study, run_study

    plan = plan_study(
        _split_list(models), _split_list(methods), _split_list(langs), _split_list(recipes), check_seeds(seeds),
        baseline=not no_baseline, dtype=dtype, eval_batch_size=eval_batch_size, bootstrap=bootstrap,
        eval_limit=eval_limit, seed=seed, data=data, limit=limit, epochs=epochs, max_steps=max_steps, batch_size=batch_size, lr=lr,
        max_seq_length=max_seq_length, freeze_embeddings=freeze_embeddings, copies=copies,
        consistency_weight=consistency_weight, consistency_target=consistency_target, unlabeled=_split_list(unlabeled) if unlabeled else None,
        train_recipes=_split_list(train_recipes) if train_recipes else None, bf16=bf16,
        gradient_checkpointing=gradient_checkpointing, save_steps=save_steps, threads=threads, device=device,
    )  # fmt: skip
    doc = run_study(plan, out, backend=backend, scheduler=scheduler, workers=workers)
    typer.echo(f"study: {len(doc['rows'])} rows; {out / 'study.md'}")


@lexicon_app.command("induce")
def lexicon_induce(
    src: Path = typer.Option(..., "--src", help="X-language text, one sentence per line."),
    eng: Path = typer.Option(..., "--eng", help="English text, line-aligned with --src."),
    out: Path = typer.Option(..., "--out", help="Output TSV (word, english, weight, origin)."),
    min_count: int = typer.Option(3, "--min-count", help="Keep word pairs aligned (in both directions) at least this often."),
):
    """Induce an X→English lexicon from parallel text by statistical word alignment."""
    from afroadv.lexicons.induce import run_induce

    for p in (src, eng):
        if not p.is_file():
            raise AfroadvError(f"file not found: {p}")
    n = run_induce(src, eng, out, min_count)
    typer.echo(f"wrote {n} entries to {out}")


@lexicon_app.command("build")
def lexicon_build(
    shared: Optional[Path] = typer.Option(None, "--shared", help="Folder with ntrex128/ and lexicon-sources/ (default: ../shared/data)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: data/lexicons)."),
):
    """Rebuild the shipped lexicons from NTREX-128 + GATITOS + WOLD (maintainers)."""
    from afroadv.lexicons.build import build_all
    from afroadv.resources import data_dir, shared_data_dir

    shared = shared or shared_data_dir()
    if shared is None or not Path(shared).is_dir():
        raise AfroadvError("no source data: pass --shared PATH (a folder with ntrex128/ and lexicon-sources/)")
    build_all(Path(shared), out or data_dir() / "lexicons")
    typer.echo(f"lexicons written to {out or data_dir() / 'lexicons'}")


@validate_app.command("sample")
def validate_sample(
    sets: list[Path] = typer.Argument(..., help="Sets written by `afroadv generate` (JSONL or Parquet, manifest beside); several are sampled together."),
    n: int = typer.Option(100, "--n", "-n", help="Rows in the sheet (changed pairs only, stratified by language, recipe and edit-rate tercile)."),
    seed: int = typer.Option(0, "--seed", help="Same sets and seed: byte-identical sheet."),
    out: Path = typer.Option(..., "--out", "-o", help="The review sheet (.csv)."),
):
    """Write a review sheet: a stratified sample of changed pairs with blank label_preserved / realistic columns.

    Example: afroadv validate sample hau-charnoise.jsonl --n 100 --out sheet.csv
    """
    from afroadv.validate import sample_sheet, write_sheet

    rows = sample_sheet(list(sets), n, seed)
    write_sheet(out, rows)
    typer.echo(f"wrote {len(rows)} pairs to {out}; fill label_preserved and realistic with yes / no / unsure "
               "(or `afroadv validate page` for an offline review page), then `afroadv validate score`")


@validate_app.command("score")
def validate_score(
    sheets: list[Path] = typer.Argument(..., help="Filled sheets, one per reviewer (reviewer = a `reviewer` column, else the file name)."),
    set_: list[Path] = typer.Option(..., "--set", "-s", help="The set(s) the sheets were sampled from; their manifests get the validation."),
    register: bool = typer.Option(False, "--register", help="Also record the validation in the registry, so `evaluate` shows it for sets it generates in memory."),
    registry: Optional[Path] = typer.Option(None, "--registry", help="Registry file (default: data/validation.json, or $AFROADV_VALIDATION_REGISTRY)."),
):
    """Rates of label-preserved and realistic pairs with Wilson 95% CIs and reviewer kappa, written into the set's manifest.

    Example: afroadv validate score ana.csv bello.csv --set hau-charnoise.jsonl --register
    """
    from afroadv.validate import format_validation, registry_path, save_validations, score_sheets

    results = score_sheets(list(sheets), list(set_))
    for path, written, key in save_validations(results, register, registry):
        typer.echo(format_validation(path.name, results[path]))
        typer.echo(f"  validation written to {written}")
        if key:
            typer.echo(f"  registered in {registry or registry_path()} (generator key {key[:12]})")


@validate_app.command("page")
def validate_page(
    sheet: Path = typer.Argument(..., help="A review sheet from `afroadv validate sample`."),
    out: Path = typer.Option(..., "--out", "-o", help="The review page (.html): one offline file, answers kept in the browser."),
):
    """One self-contained HTML page to review a sheet in a browser; its download button saves the filled sheet.

    Example: afroadv validate page sheet.csv --out review.html
    """
    from afroadv.validate import write_review_page

    write_review_page(sheet, out)
    typer.echo(f"review page: {out} (open it in a browser; 'Download sheet' saves NAME.csv for `afroadv validate score`)")


def _print_version(value: bool) -> None:
    if value:
        from afroadv import __version__

        typer.echo(f"afroadv {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")):
    """Adversarial and out-of-domain similarity test sets for African languages, and how much encoders lose on them."""


def _click_kind(e: BaseException) -> str | None:
    """'usage', 'exit' or 'abort' for click's exceptions — typer's vendored copy or click itself,
    recognised by class name so the light install (no click package) needs neither."""
    names = {c.__name__ for c in type(e).__mro__}
    if "NoArgsIsHelpError" in names:
        return "help"
    if "ClickException" in names:
        return "usage"
    if "Exit" in names and hasattr(e, "exit_code"):
        return "exit"
    if "Abort" in names:
        return "abort"
    return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    """The console entry point: exit 0 on success, 2 with one `afroadv: error: …` line on bad input
    or a usage error (never a traceback), 130 when interrupted."""
    try:
        app(args=argv, standalone_mode=False)
    except AfroadvError as e:
        typer.echo(f"afroadv: error: {_one_line(e)}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("afroadv: interrupted", err=True)
        sys.exit(130)
    except Exception as e:
        kind = _click_kind(e)
        if kind == "help":  # bare `afroadv` or `afroadv lexicon`: the help, on stdout
            ctx = getattr(e, "ctx", None)
            typer.echo(ctx.get_help() if ctx is not None else _one_line(e))
            sys.exit(0)
        if kind == "usage":
            ctx = getattr(e, "ctx", None)
            where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            typer.echo(f"afroadv: error: {_one_line(e.format_message())}{where}", err=True)
            sys.exit(2)
        if kind == "exit":
            sys.exit(e.exit_code)
        if kind == "abort":
            typer.echo("afroadv: aborted", err=True)
            sys.exit(130)
        raise
    sys.exit(0)


if __name__ == "__main__":
    main()
