"""`afroadv attack`: the typer command. Registered in cli.py with `app.command("attack")(attack_command)`.

Nothing heavy is imported here (no torch, transformers or textattack): `afroadv --help` and the
other commands stay fast; the attack imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from afroadv.attack.defaults import DEFAULT_BUDGET, DEFAULT_CANDIDATES, DEFAULT_DELTA, DEFAULT_MAX_CHARS
from afroadv.options import ALLOW_PICKLE_HELP, DTYPE_HELP, PROMPT_HELP, TRUST_REMOTE_CODE_HELP


def attack_command(
    model: str = typer.Option(..., "--model", "-m", help="Model alias (e5-small, xlmr-xl, tiny-xlmr ...), a model folder or a hub id."),
    lang: str = typer.Option(..., "--lang", "-l", help="Language code or alias (hau, amh, kin, afr ...)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: adversarial.jsonl (+ .manifest.json), log.jsonl, summary.json, checkpoint.jsonl."),
    recipe: str = typer.Option("charnoise", "--recipe", "-r", help="Recipe whose transformations the attack searches (see `afroadv recipes`), or a recipe YAML."),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="semrel | tatoeba | ntrex | a pairs file. Default: the language's default set."),
    split: str = typer.Option("test", "--split", help="Split for catalogue datasets (semrel: test or dev)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N pairs."),
    seed: int = typer.Option(0, "--seed", help="Seeds each word's candidate rewrites: same seed, same outputs."),
    budget: float = typer.Option(DEFAULT_BUDGET, "--budget", help="Most words perturbed, as a share of the attacked sides' words (rounded down)."),
    delta: float = typer.Option(DEFAULT_DELTA, "--delta", help="Success threshold δ on the 0–1 score scale (cosine; gold rescaled to 0–1)."),
    goal: str = typer.Option("move", "--goal", help="move: |s_adv − s_orig| ≥ δ.  away-from-gold: |s_adv − gold| − |s_orig − gold| ≥ δ."),
    search: str = typer.Option("greedy", "--search", help="greedy (word-importance ranking by deletion, then greedy swaps) | beam."),
    beam_width: int = typer.Option(4, "--beam-width", help="Beam width K for --search beam (1–100)."),
    max_queries: int = typer.Option(2000, "--max-queries", help="Model queries per pair (TextAttack's query budget), at least 1."),
    sides: Optional[str] = typer.Option(None, "--sides", help="both | first | second: which sentence(s) may be perturbed (default: the recipe's; bitext: the non-English side)."),
    max_edit_distance: Optional[int] = typer.Option(None, "--max-edit-distance", help="Most character edits (Levenshtein) between the original and adversarial pair."),
    candidates: int = typer.Option(DEFAULT_CANDIDATES, "--candidates", help="Rewrites tried per word and transformation (1–100)."),
    checkpoint_every: int = typer.Option(10, "--checkpoint-every", help="Append finished pairs to DIR/checkpoint.jsonl every N pairs."),
    resume: bool = typer.Option(False, "--resume", help="Continue from DIR/checkpoint.jsonl (same settings required); without it a run starts over."),
    engine: str = typer.Option("afroadv", "--engine", help="afroadv (fast) | textattack (TextAttack's own Attack with the same components, on TextAttack's words: slower)."),
    words: Optional[str] = typer.Option(None, "--words", help="Which words are attackable: afroadv (afroadv's script-aware tokeniser; the afroadv engine's default) | textattack (only words TextAttack's splitter sees identically: what --engine textattack attacks; same outputs as it)."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 ... (default: a GPU if there is one)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help=DTYPE_HELP),
    batch_size: int = typer.Option(32, "--batch-size", help="Texts per model forward."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads (default: torch's; 1 is faster on a machine shared with other busy processes)."),
    max_chars: int = typer.Option(DEFAULT_MAX_CHARS, "--max-chars", help="Longest sentence attacked, in characters: a longer one stops the run before it starts (memory grows with sentence length)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Longest sentence attacked, in model tokens (default: the model's window; words past it cannot move the score)."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help=TRUST_REMOTE_CODE_HELP),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help=ALLOW_PICKLE_HELP),
    prompt: Optional[str] = typer.Option(None, "--prompt", help=PROMPT_HELP),
):
    """Search, per pair, for the recipe perturbation within the budget that moves the model's similarity score the most.

    Example: afroadv attack --model e5-small --lang hau --recipe charnoise --limit 50 --out out/
    """
    from afroadv.attack.runner import AttackConfig, run_attack

    cfg = AttackConfig(
        model=model, lang=lang, recipe=recipe, dataset=dataset, split=split, limit=limit, seed=seed, budget=budget,
        delta=delta, goal=goal, search=search, beam_width=beam_width, max_queries=max_queries, sides=sides,
        max_edit_distance=max_edit_distance, candidates=candidates, checkpoint_every=checkpoint_every,
        engine=engine, words=words, device=device, dtype=dtype, batch_size=batch_size, threads=threads, max_chars=max_chars, max_tokens=max_tokens,
        trust_remote_code=trust_remote_code, allow_pickle=allow_pickle, prompt=prompt,
    )  # fmt: skip
    run = run_attack(cfg, out, resume=resume, progress=sys.stderr.isatty(), notify=lambda m: typer.echo(m, err=True))
    _print(run)


def _fmt(x, spec=".2f") -> str:
    return "-" if x is None else format(x, spec)


def _print(run) -> None:
    from rich.console import Console
    from rich.table import Table

    s, t = run.summary, run.timing
    console = Console(width=None if sys.stdout.isatty() else 200)
    table = Table(title=f"attack {s['recipe']} · {s['model']} · {s['lang']} {s['dataset']}/{s['split']} · "
                        f"goal {s['goal']} δ={s['delta']:g} · budget {s['attack']['budget']:g} · {s['attack']['search']}")
    for col in ("pairs", "succeeded", "success rate", "mean queries", "perturbed share", "mean deviation",
                "Spearman clean", "Spearman attacked", "drop [95% CI]"):
        table.add_column(col, justify="right")
    ci = s["drop_ci"]
    table.add_row(
        str(s["n"]), str(s["n_succeeded"]), f"{100 * s['success_rate']:.1f}%", _fmt(s["mean_queries"], ".1f"),
        f"{100 * s['mean_perturbed_share']:.1f}%", _fmt(s["mean_deviation"], ".4f"), _fmt(s["spearman_clean"]),
        _fmt(s["spearman_attacked"]),
        f"{_fmt(s['drop'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else _fmt(s["drop"]),
    )  # fmt: skip
    console.print(table)
    if t.get("examples"):
        q = t["model_queries"]
        per_text = t["texts_encoded"] / (2 * q) if q else 0.0
        share = t["forward_share"]
        console.print(
            f"{t['examples']} pairs attacked in {t['wall_s']:.1f} s ({t['s_per_example']:.2f} s/pair"
            f"{', resumed after ' + str(run.resumed_from) if run.resumed_from else ''}); {q} model queries, "
            f"{t['texts_encoded']} texts encoded ({per_text:.2f} per text queried; the rest came from the cache); "
            f"model forward {100 * share:.0f}% of the time" if share is not None else "", highlight=False)
    elif run.resumed_from:
        console.print(f"all {run.resumed_from} pairs were already in the checkpoint; outputs rewritten", highlight=False)
    console.print(f"wrote {run.out / s['files']['adversarial']} (+ {s['files']['manifest']}), {s['files']['log']} "
                  f"(ranked by deviation), summary.json", highlight=False)
