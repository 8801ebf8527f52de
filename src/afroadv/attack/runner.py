"""The attack loop: a dataset × a recipe × a model → adversarial set, per-example log, summary.

Outputs in `--out DIR` (written atomically at the end, from the checkpoint's records):

    adversarial.jsonl            every pair under attack, in generate's schema (`afroadv evaluate --sets`)
    adversarial.manifest.json    how it was made (model, recipe, attack settings, input fingerprints)
    log.jsonl                    one line per pair, ranked by the deviation reached
    summary.json                 success rate, queries, perturbed share, Spearman clean vs attacked
    checkpoint.jsonl             header + one JSON line per finished pair (appended every N pairs)

Resuming: the checkpoint is plain JSON lines (never pickle), appended and fsync'ed every
`checkpoint_every` pairs; `--resume` checks that its header matches the run's settings, drops a
torn last line, and continues after the last complete record. Everything written depends only on
the records (no clocks, no cache state), and each record only on the pair, so a run killed with
SIGKILL and resumed writes the same bytes as an uninterrupted one. (Model outputs are
deterministic too: every text is encoded in the same batch in both runs, because the persistent
embedding cache stores a whole encoder call atomically and the calls replay in the same order.)

Bounds, all checked before the model loads and before anything is written: every option
(`AttackConfig.checked`), the output folder, and each sentence's length in characters
(`--max-chars`, default 2,000) and in model tokens (`--max-tokens`, default the model's window).

No torch or textattack import at module level.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from afroadv import __version__
from afroadv.attack.core import AttackSpace, Goal, changed_words
from afroadv.attack.defaults import (
    DEFAULT_BUDGET,
    DEFAULT_CANDIDATES,
    DEFAULT_DELTA,
    DEFAULT_MAX_CHARS,
    GOALS,
    MAX_BEAM_WIDTH,
    MAX_CANDIDATES,
    SEARCHES,
    SIDE_CHOICES,
    WORDS,
)
from afroadv.data.pairs import ONE_SIDED_TASKS
from afroadv.data.writers import check_out_dir, dumps_record, write_manifest, write_records, write_text_atomic
from afroadv.errors import AfroadvError
from afroadv.generate import COLUMNS, pairs_sha256
from afroadv.options import check_dtype
from afroadv.options import check_count, check_device, check_float, check_limit, check_prompt, check_seed
from afroadv.resources import sha256_file
from afroadv.text import nfc

ENGINES = ("afroadv", "textattack")
CHECKPOINT = "checkpoint.jsonl"
ADVERSARIAL = "adversarial.jsonl"
LOG = "log.jsonl"
SUMMARY = "summary.json"


@dataclass(frozen=True)
class AttackConfig:
    model: str
    lang: str
    recipe: str = "charnoise"
    dataset: str | None = None
    split: str = "test"
    limit: int | None = None
    seed: int = 0
    budget: float = DEFAULT_BUDGET
    delta: float = DEFAULT_DELTA
    goal: str = "move"
    search: str = "greedy"
    beam_width: int = 4
    max_queries: int | None = 2000  # None: no limit (Python only; the CLI always has one)
    sides: str | None = None
    max_edit_distance: int | None = None
    candidates: int = DEFAULT_CANDIDATES
    checkpoint_every: int = 10
    engine: str = "afroadv"
    words: str | None = None  # "afroadv" | "textattack" (None: the engine's own; see core.AttackSpace)
    device: str | None = None
    dtype: str | None = None  # fp32 | bf16 | fp16 (None: models/precision.py's default for the device)
    batch_size: int = 32
    threads: int | None = None  # torch intra-op threads (None: torch's default)
    max_chars: int = DEFAULT_MAX_CHARS  # longest sentence attacked, in characters
    max_tokens: int | None = None  # longest sentence in model tokens (None: the model's own window)
    trust_remote_code: bool = False  # run code a model folder names (custom modules, auto_map)
    allow_pickle: bool = False  # load pickle weights when a folder has no safetensors
    prompt: str | None = None  # text before every sentence the model sees (None: the model's own)

    def checked(self) -> AttackConfig:
        """This config with every option checked and its numbers normalised (3.0 → 3), or one
        AfroadvError naming the first bad option. `run_attack` calls it before any work, so the
        Python API gets the CLI's rules."""
        words = self.words
        if words is None:  # the engine's own
            words = "textattack" if self.engine == "textattack" else "afroadv"
        for name, value, choices in (("--goal", self.goal, GOALS), ("--search", self.search, SEARCHES),
                                     ("--engine", self.engine, ENGINES), ("--words", words, WORDS)):
            if value not in choices:
                raise AfroadvError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        if self.engine == "textattack" and words != "textattack":
            raise AfroadvError("--engine textattack attacks TextAttack's own words: --words afroadv needs --engine afroadv")
        if words == "textattack":  # before any work: textattack is an optional extra
            from afroadv.attack.ta_env import require_textattack

            require_textattack("--engine textattack" if self.engine == "textattack" else "--words textattack")
        if self.sides is not None and self.sides not in SIDE_CHOICES:
            raise AfroadvError(f"--sides must be one of {', '.join(SIDE_CHOICES)}, got {self.sides!r}")
        for name, value in (("--model", self.model), ("--lang", self.lang), ("--recipe", self.recipe)):
            if not isinstance(value, str) or not value.strip():
                raise AfroadvError(f"{name} must be a non-empty name, got {value!r}")

        def count(value, name, **kw):
            return None if value is None else check_count(value, name, **kw)

        return replace(
            self,
            words=words,
            limit=check_limit(self.limit),
            seed=check_seed(self.seed),
            budget=check_float(self.budget, "--budget", low=0.0, high=1.0, low_open=True),
            delta=check_float(self.delta, "--delta", low=0.0, high=1.0, low_open=True),
            beam_width=check_count(self.beam_width, "--beam-width", maximum=MAX_BEAM_WIDTH),
            max_queries=count(self.max_queries, "--max-queries"),
            max_edit_distance=count(self.max_edit_distance, "--max-edit-distance"),
            candidates=check_count(self.candidates, "--candidates", maximum=MAX_CANDIDATES),
            checkpoint_every=check_count(self.checkpoint_every, "--checkpoint-every"),
            device=check_device(self.device),
            dtype=check_dtype(self.dtype),
            batch_size=check_count(self.batch_size, "--batch-size"),
            threads=count(self.threads, "--threads"),
            max_chars=check_count(self.max_chars, "--max-chars"),
            max_tokens=count(self.max_tokens, "--max-tokens"),
            prompt=check_prompt(self.prompt),
        )

    def validate(self) -> None:
        """Raise AfroadvError on the first bad option (see `checked`)."""
        self.checked()


@dataclass
class AttackRun:
    out: Path
    summary: dict
    records: list[dict]
    timing: dict = field(default_factory=dict)
    resumed_from: int = 0


# ---------------------------------------------------------------- checkpoint
def _config_digest(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _read_checkpoint(path: Path, config: dict, pairs) -> list[dict]:
    """Complete records of a checkpoint made with the same settings (a torn last line is cut off)."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):  # killed mid-write: drop the partial line so appends start clean
        with open(path, "r+b") as f:
            f.truncate(end)
        data = data[:end]
    lines = data.decode("utf-8").splitlines()
    if not lines:
        return []
    try:
        header = json.loads(lines[0])
    except ValueError:
        raise AfroadvError(f"{path} is not an afroadv attack checkpoint (bad header)") from None
    if header.get("kind") != "afroadv-attack-checkpoint":
        raise AfroadvError(f"{path} is not an afroadv attack checkpoint")
    if header.get("digest") != _config_digest(config):
        old = header.get("config") or {}
        diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
        raise AfroadvError(f"{path} was made with different settings ({', '.join(diff) or 'version'}); "
                           "run without --resume to start over, or use another --out")
    records = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            rec = json.loads(line)
        except ValueError:
            raise AfroadvError(f"{path}: line {n} is corrupt; run without --resume to start over") from None
        i = len(records)
        if rec.get("i") != i or i >= len(pairs) or rec.get("id") != pairs[i].id:
            raise AfroadvError(f"{path}: line {n} does not follow on (expected pair {i}); run without --resume")
        records.append(rec)
    return records


def _append(path: Path, records: list[dict]) -> None:
    if not records:
        return
    with open(path, "a", encoding="utf-8", newline="\n") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())


def _start_checkpoint(path: Path, config: dict) -> None:
    header = {"kind": "afroadv-attack-checkpoint", "version": 1, "digest": _config_digest(config), "config": config}
    write_text_atomic(path, json.dumps(header, ensure_ascii=False, sort_keys=True) + "\n")


# ---------------------------------------------------------------- helpers
def _r(x: float | None, nd: int = 6) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return round(float(x), nd)


def _engine(cfg: AttackConfig, space: AttackSpace, goal: Goal, scorer):
    """A function (columns, gold) -> (final columns, s_orig, s_final, objective, succeeded, queries)."""
    max_queries = cfg.max_queries or None
    if cfg.engine == "afroadv":
        from afroadv.attack.search import ExampleSearch

        searcher = ExampleSearch(space, goal, lambda items: scorer.score_pairs(items).tolist(), max_queries)

        def run(columns, gold):
            o = searcher.run(columns, gold, cfg.search, cfg.beam_width)
            return o.final.columns, o.original.score, o.final.score, o.final.objective, o.final.done, o.queries

        return run
    # ta_wrapper stages NLTK's data and blocks downloads before it imports textattack; any
    # `from textattack ...` above it would run textattack's online first import instead.
    from afroadv.attack.ta_wrapper import PairModelWrapper, attacked_text, build_attack

    from afroadv.attack.goal import gold_label
    from textattack.goal_function_results import GoalFunctionResultStatus

    attack = build_attack(space, PairModelWrapper(scorer), goal=goal.kind, delta=goal.delta, search=cfg.search,
                          beam_width=cfg.beam_width, max_queries=max_queries)

    def run(columns, gold):
        res = attack.attack(attacked_text(*columns), gold_label(gold))
        final = res.perturbed_result
        cols = tuple(final.attacked_text._text_input.values())
        return (cols, float(res.original_result.output), float(final.output), float(final.score),
                final.goal_status == GoalFunctionResultStatus.SUCCEEDED, int(final.num_queries))

    return run


# ---------------------------------------------------------------- the run
def run_attack(cfg: AttackConfig, out: Path, *, resume: bool = False, progress: bool = False,
               encoder=None, notify=None) -> AttackRun:
    """Attack every pair of the dataset (first `limit`) and write the outputs into `out`.

    Bad input (an option, the output folder, a sentence over --max-chars / --max-tokens) raises
    AfroadvError before the model loads and before anything is written."""
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language
    from afroadv.perturb.recipe import load_recipe

    cfg = cfg.checked()
    notify = notify or (lambda msg: None)
    out = Path(out)
    check_out_dir(out, "--out")  # a file, a read-only folder: said now, not after the model loads (creates nothing)
    goal = Goal(cfg.goal, float(cfg.delta))
    language = get_language(cfg.lang)
    recipe = load_recipe(cfg.recipe)
    ds = load_dataset(language, cfg.dataset, cfg.split)
    pairs = ds.pairs[: cfg.limit] if cfg.limit else ds.pairs
    if not pairs:
        raise AfroadvError(f"dataset {ds.name} has no pairs to attack")
    check_lengths(pairs, cfg.max_chars)
    task = pairs[0].task
    sides = "first" if task in ONE_SIDED_TASKS else (cfg.sides or recipe.sides)  # (the other side is an untouched anchor)
    space = AttackSpace.build(recipe, language, seed=cfg.seed, candidates=cfg.candidates, sides=sides,
                              budget=cfg.budget, max_edit_distance=cfg.max_edit_distance, words=cfg.words)
    scale = float(ds.score_scale[1]) if ds.score_scale else 1.0
    golds = [None if p.score is None else float(p.score) / scale for p in pairs]
    if goal.needs_gold and any(g is None for g in golds):
        raise AfroadvError(f"--goal away-from-gold needs gold scores; {ds.name} has pairs without one (use --goal move)")
    if encoder is None:
        from afroadv.models import load_encoder, resolve_model

        encoder = load_encoder(resolve_model(cfg.model, trust_remote_code=cfg.trust_remote_code,
                                             allow_pickle=cfg.allow_pickle),
                               device=cfg.device, dtype=cfg.dtype, batch_size=cfg.batch_size, prefix=cfg.prompt)
    check_token_lengths(pairs, encoder, cfg.max_tokens)  # (the tokenizer only: weights load lazily)

    resolved = encoder.resolved
    model_info = {"name": cfg.model, "id": resolved.model_id, **resolved.identity(), "fingerprint": resolved.fingerprint,
                  "kind": resolved.kind, **({"dtype": encoder.dtype} if hasattr(encoder, "dtype") else {}),
                  **({"prompt": encoder.prefix} if getattr(encoder, "prefix", "") else {})}
    attack_params = {"goal": goal.kind, "delta": goal.delta, "budget": space.budget, "search": cfg.search,
                     "beam_width": cfg.beam_width if cfg.search == "beam" else None,
                     "max_queries": cfg.max_queries or None, "sides": sides,
                     "max_edit_distance": cfg.max_edit_distance, "candidates": space.candidates,
                     "wir": "delete" if cfg.search == "greedy" else None, "protect": list(space.recipe.protect),
                     "words": space.words}
    config = {"afroadv_version": __version__, "model": model_info, "lang": language.code,
              "recipe": {"name": recipe.name, "parameters": recipe.params()}, "seed": cfg.seed,
              "dataset": {"name": ds.name, "split": ds.split, "limit": cfg.limit}, "input_sha256": pairs_sha256(pairs),
              "attack": attack_params}

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AfroadvError(f"cannot create --out folder {out}: {e.strerror}") from None
    ckpt = out / CHECKPOINT
    records: list[dict] = []
    if resume and ckpt.exists():
        records = _read_checkpoint(ckpt, config, pairs)
        notify(f"resuming after {len(records)} of {len(pairs)} pairs (from {ckpt})")
    else:
        if resume:
            notify(f"no checkpoint in {out}: starting from the first pair")
        _start_checkpoint(ckpt, config)
    for name in (ADVERSARIAL, "adversarial.manifest.json", LOG, SUMMARY):  # never leave a previous run's
        (out / name).unlink(missing_ok=True)  # outputs beside this run's checkpoint
    resumed_from = len(records)

    from afroadv.attack.wrapper import ForwardTimer, PairScorer

    if cfg.threads and resumed_from < len(pairs):
        import torch

        torch.set_num_threads(cfg.threads)
    scorer = PairScorer(encoder)
    timer = ForwardTimer(encoder)
    encoded_before = scorer.texts_encoded
    run = _engine(cfg, space, goal, scorer) if resumed_from < len(pairs) else None
    t0 = time.perf_counter()
    pending: list[dict] = []
    todo = range(resumed_from, len(pairs))
    from afroadv.progress import track

    for i in track(todo, f"attack {recipe.name} {language.code}", enabled=progress):
        pair = pairs[i]
        original = (nfc(pair.sentence1), nfc(pair.sentence2))
        cols, s0, s1, objective, ok, queries = run(original, golds[i])
        a = space.analyse(original)
        rec = {"i": i, "id": pair.id, "status": "succeeded" if ok else "failed", "queries": queries,
               "score_orig": s0, "score_adv": s1, "deviation": objective,
               "sentence1": cols[0], "sentence2": cols[1], "changes": changed_words(original, cols),
               "n_words": a.budget_words, "limit": space.limit(original), "attackable": len(a.eligible)}
        rec = json.loads(json.dumps(rec, ensure_ascii=False, sort_keys=True))  # exactly what a resume reads back
        records.append(rec)
        pending.append(rec)
        if len(pending) >= cfg.checkpoint_every:
            _append(ckpt, pending)
            pending = []
    _append(ckpt, pending)
    wall = time.perf_counter() - t0 - timer.load_seconds  # loading weights is not attacking

    summary = _write_outputs(out, cfg, ds, pairs, golds, records, space, goal, model_info, attack_params, config)
    n_new = len(pairs) - resumed_from
    stats = scorer.stats()
    timing = {"wall_s": wall, "load_s": timer.load_seconds, "examples": n_new, "s_per_example": wall / n_new if n_new else None,
              "forward_s": timer.seconds, "forward_share": timer.seconds / wall if wall > 0 else None,
              "texts_encoded": scorer.texts_encoded - encoded_before, "model_queries": sum(r["queries"] for r in records[resumed_from:]),
              **{k: v for k, v in stats.items() if k != "texts_encoded"}}
    return AttackRun(out, summary, records, timing, resumed_from)


# ---------------------------------------------------------------- input bounds
def check_lengths(pairs, max_chars: int = DEFAULT_MAX_CHARS) -> None:
    """Every sentence at most `max_chars` characters, or one AfroadvError naming the first pair over.

    Why a bound at all: an attack's time and memory grow with (words × rewrites × text length), so a
    stray 1 MB "sentence" (a pasted document, a broken CSV quote) would otherwise run the machine
    out of memory long before the query budget stops it."""
    for p in pairs:
        for side, text in ((1, p.sentence1), (2, p.sentence2)):
            if len(text) > max_chars:
                raise AfroadvError(f"pair {p.id}: sentence {side} has {len(text):,} characters, over the "
                                   f"--max-chars limit of {max_chars:,} (shorten it, drop the pair, or raise --max-chars)")


def check_token_lengths(pairs, encoder, max_tokens: int | None = None) -> None:
    """Every sentence (a cross-encoder: every pair) within `max_tokens` of the model's tokenizer —
    by default the model's own window, past which words are cut off and cannot move the score.
    Skipped when the tokenizer cannot be found (then only --max-chars applies)."""
    tok = _tokenizer(encoder)
    if tok is None:
        return
    window = _window(encoder, tok)
    limit = max_tokens or window
    if limit is None:
        return
    prepare = getattr(encoder, "_prepare", None) or (lambda texts: list(texts))  # e5's "query: " prefix
    cross = not hasattr(encoder, "encode")
    kw = {"add_special_tokens": True, "truncation": False, "verbose": False}
    for start in range(0, len(pairs), 256):  # in chunks: only lengths are kept, never a whole set's ids
        chunk = pairs[start:start + 256]
        try:
            if cross:
                ids = tok([p.sentence1 for p in chunk], [p.sentence2 for p in chunk], **kw)["input_ids"]
                found = [(p, None, len(x)) for p, x in zip(chunk, ids)]
            else:
                ids = tok(prepare([t for p in chunk for t in (p.sentence1, p.sentence2)]), **kw)["input_ids"]
                found = [(chunk[i // 2], i % 2 + 1, len(x)) for i, x in enumerate(ids)]
        except Exception:  # a tokenizer that cannot run here: the model will say so itself
            return
        for p, side, n in found:
            if n > limit:
                what = "the pair" if side is None else f"sentence {side}"
                why = (f"--max-tokens {limit}" if max_tokens else
                       f"the model's {limit}-token window (words past it cannot move the score; "
                       "shorten it, or raise --max-tokens to attack it truncated)")
                raise AfroadvError(f"pair {p.id}: {what} has {n:,} tokens, over {why}")


def _window(encoder, tok) -> int | None:
    """The model's window in tokens (what the encoder truncates to), if it says."""
    sizes = [getattr(encoder, "max_length", None), getattr(tok, "model_max_length", None)]
    sizes = [int(x) for x in sizes if isinstance(x, int) and 0 < x < 1_000_000]
    return min(sizes) if sizes else None


def _tokenizer(encoder):
    """The encoder's tokenizer without loading its weights (a fully cached run never loads them)."""
    tok = getattr(encoder, "_tokenizer", None)  # a loaded BiEncoder (transformers backend)
    if tok is not None:
        return tok
    for holder in ("_st", "_ce"):  # a loaded sentence-transformers model / cross-encoder
        tok = getattr(getattr(encoder, holder, None), "tokenizer", None)
        if tok is not None:
            return tok
    rm = getattr(encoder, "resolved", None)
    if rm is None or not getattr(rm, "source", None):
        return None
    return _load_tokenizer(str(rm.source), getattr(rm, "subfolder", None) or "",
                           getattr(rm, "revision", None) if not getattr(rm, "source_is_dir", True) else None,
                           bool(getattr(rm, "trust_remote_code", False)), getattr(rm, "fingerprint", None))


@lru_cache(maxsize=4)
def _load_tokenizer(source: str, subfolder: str, revision: str | None, trust_remote_code: bool, fingerprint):
    """The model's tokenizer alone (cached per model: runs in one process share it), or None."""
    try:
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        kw = {"trust_remote_code": trust_remote_code, **({"subfolder": subfolder} if subfolder else {}),
              **({"revision": revision} if revision else {})}
        level = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            return AutoTokenizer.from_pretrained(source, **kw)
        finally:
            hf_logging.set_verbosity(level)
    except Exception:  # no tokenizer files, no transformers, offline hub id: the token check is skipped
        return None


def _write_outputs(out, cfg, ds, pairs, golds, records, space, goal, model_info, attack_params, config) -> dict:
    import numpy as np

    from afroadv.metrics import paired_drop_ci, spearman

    recipe = space.recipe
    name = f"attack-{recipe.name}"
    adv = []
    for pair, r in zip(pairs, records):
        n_changed = len(r["changes"])
        adv.append({
            "id": f"{pair.id}/{name}/{cfg.seed}", "source_id": pair.id, "lang": pair.lang, "task": pair.task,
            "recipe": name, "sentence1": r["sentence1"], "sentence2": r["sentence2"], "score": pair.score,
            "orig_sentence1": pair.sentence1, "orig_sentence2": pair.sentence2,
            "changed": r["sentence1"] != pair.sentence1 or r["sentence2"] != pair.sentence2,
            "edit_rate": round(n_changed / r["n_words"], 6) if r["n_words"] else 0.0, "seed": cfg.seed,
        })  # fmt: skip
    adv_path = out / ADVERSARIAL
    write_records(adv_path, adv, COLUMNS)

    n = len(records)
    shares = [len(r["changes"]) / r["n_words"] if r["n_words"] else 0.0 for r in records]
    succeeded = sum(r["status"] == "succeeded" for r in records)
    clean = [r["score_orig"] for r in records]
    attacked = [r["score_adv"] for r in records]
    gold = [p.score for p in pairs]
    sp_clean = sp_att = drop = None
    ci = None
    if all(g is not None for g in gold) and n >= 3:
        sp_clean, sp_att = spearman(gold, clean), spearman(gold, attacked)
        if math.isfinite(sp_clean) and math.isfinite(sp_att):
            d, (lo, hi) = paired_drop_ci(gold, clean, attacked)
            drop, ci = d, [_r(lo, 4), _r(hi, 4)]
    deviations = [r["deviation"] for r in records]
    summary = {
        "n": n, "n_succeeded": succeeded, "n_failed": n - succeeded,
        "n_unattackable": sum(1 for r in records if r["attackable"] == 0 or r["limit"] == 0),
        "success_rate": _r(succeeded / n if n else 0.0),
        "mean_queries": _r(float(np.mean([r["queries"] for r in records])) if n else 0.0, 3),
        "mean_perturbed_share": _r(float(np.mean(shares)) if n else 0.0),
        "mean_deviation": _r(float(np.mean(deviations)) if n else 0.0),
        "spearman_clean": _r(sp_clean, 4), "spearman_attacked": _r(sp_att, 4), "drop": _r(drop, 4), "drop_ci": ci,
        "goal": goal.kind, "delta": goal.delta, "model": model_info["name"], "lang": space.lang.code,
        "recipe": name, "dataset": ds.name, "split": ds.split, "seed": cfg.seed, "attack": attack_params,
        "top": [r["id"] for r in sorted(records, key=lambda r: (-r["deviation"], r["i"]))[:5]],
        "files": {"adversarial": ADVERSARIAL, "manifest": "adversarial.manifest.json", "log": LOG},
    }  # fmt: skip

    ranked = sorted(records, key=lambda r: (-r["deviation"], r["i"]))
    lines = []
    for rank, r in enumerate(ranked, 1):
        pair = pairs[r["i"]]
        lines.append(dumps_record({
            "rank": rank, "id": r["id"], "status": r["status"], "deviation": _r(r["deviation"]),
            "score_orig": _r(r["score_orig"]), "score_adv": _r(r["score_adv"]),
            "score_change": _r(r["score_adv"] - r["score_orig"]), "gold": _r(golds[r["i"]]),
            "queries": r["queries"], "words_changed": len(r["changes"]), "words": r["n_words"],
            "word_limit": r["limit"], "perturbed_share": _r(shares[r["i"]]), "changes": r["changes"],
            "orig_sentence1": pair.sentence1, "orig_sentence2": pair.sentence2,
            "sentence1": r["sentence1"], "sentence2": r["sentence2"],
        }))  # fmt: skip
    write_text_atomic(out / LOG, "".join(line + "\n" for line in lines))
    write_text_atomic(out / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    n_changed = sum(a["changed"] for a in adv)
    manifest = {
        "afroadv_version": __version__,
        "kind": "attack-set",
        "lang": space.lang.code,
        "task": pairs[0].task,
        "recipe": {"name": name, "base": recipe.name, "description": recipe.description,
                   "parameters": recipe.params()},
        "seed": cfg.seed,
        "model": model_info,
        "attack": attack_params,
        "dataset": {
            "name": ds.name, "split": ds.split, "limit": cfg.limit,
            "score_scale": list(ds.score_scale) if ds.score_scale else None,
            "files": [{"name": Path(f).name, "sha256": sha256_file(Path(f))} for f in ds.files],
        },
        "input_sha256": config["input_sha256"],
        "lexicons": space.perturber.resource_versions,
        "stats": {
            "n": n, "n_changed": n_changed, "changed_share": round(n_changed / n, 6) if n else 0.0,
            "mean_edit_rate": round(sum(a["edit_rate"] for a in adv) / n, 6) if n else 0.0,
            "success_rate": summary["success_rate"],
        },
        "columns": COLUMNS,
        "output": {"file": adv_path.name, "sha256": sha256_file(adv_path)},
    }  # fmt: skip
    write_manifest(adv_path, manifest)
    return summary
