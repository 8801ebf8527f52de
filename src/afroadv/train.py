"""`afroadv train`: fine-tune an encoder on English STS (STS-B) with seeded perturbation
augmentation, and write a normal sentence-transformers folder that `afroadv evaluate --model DIR`
loads.

- Bi-encoder (default): sentence-transformers' trainer with CoSENT loss (or cosine-similarity MSE).
- Cross-encoder (`--head cross`): sentence-transformers' CrossEncoder trainer, one output,
  binary cross-entropy on the 0–1 scores (or MSE).
- Methods (afroadv.augment): `plain`, `rs-da` (randomized smoothing with data augmentation,
  Huang et al. 2021), `codeswitch-aug` (English words → lexicon translations into target
  languages); any afroadv recipe can be stacked on the copies.
- Gold scores are divided by the data's scale (STS-B: 5) so the loss sees 0–1; the scale is recorded.
- Checkpoints (safetensors weights) go to `OUT/checkpoints/` and are deleted after a successful run
  unless `keep_checkpoints`; `resume` continues from the last one (the run's options must match).
  Each checkpoint also holds the loss history so far (`afroadv_losses.json`), so a resumed run
  reports the loss statistics of the whole run. Nothing is written into OUT before the first
  checkpoint, and a start that failed before it leaves nothing behind (a rerun just works).
- The output never carries code (*.py ...) copied from the base model, unless the user trusted
  that code (`trust_remote_code`); then the copied files are listed in the model card.
- GPUs: the same code under `accelerate launch` (DDP; FSDP for XL/XXL; configs/accelerate/*.yaml),
  with `bf16` and `gradient_checkpointing`.

torch, transformers and sentence-transformers are imported inside functions, so importing this
module (and `afroadv --help`) stays light.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from afroadv import __version__
from afroadv.augment import DEFAULT_LANGS, METHODS as AUGMENT_METHODS, Augmenter, TrainPair
from afroadv.consistency import DEFAULT_WEIGHT, TARGETS, ConsistencyDraws
from afroadv.data.pairs import Pair
from afroadv.data.writers import check_out_dir, write_text_atomic
from afroadv.errors import AfroadvError
from afroadv.options import check_count, check_device, check_float, check_limit, check_prompt, check_seed
from afroadv.perturb.recipe import derived_rng
from afroadv.resources import sha256_file, shared_data_dir

METHODS = (*AUGMENT_METHODS, "consistency")
HEADS = ("bi", "cross")
LOSSES = {"bi": ("cosent", "cosine"), "cross": ("bce", "mse")}
TRAIN_INFO = "afroadv_train.json"
CHECKPOINTS = "checkpoints"
RUN_CONFIG = "afroadv_run.json"  # inside CHECKPOINTS: what a resumed run must match
LOSS_HISTORY = "afroadv_losses.json"  # inside each checkpoint-N: the loss history up to step N
TRAINER_STATE = "trainer_state.json"  # written by the Trainer into a checkpoint once its files are saved
_CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
# Files that are (or load) code: never shipped from the base model unless its code was trusted.
CODE_SUFFIXES = frozenset({".py", ".pyc", ".pyo", ".pyd", ".so", ".dll", ".dylib", ".sh", ".bat", ".cmd", ".ps1"})
MAX_EPOCHS = 10_000  # beyond this the Trainer's step count stops being meaningful (and can overflow)
STSB_HUB = "sentence-transformers/stsb"
# Options that decide what is trained on and how: a resumed run must use the same ones.
_RESUME_KEYS = ("model", "data", "method", "recipes", "copies", "seed", "head", "loss", "langs", "switch_rate",
                "limit", "batch_size", "lr", "max_seq_length", "freeze_embeddings", "warmup_ratio", "prompt",
                "unlabeled", "consistency_weight", "consistency_target")


@dataclass
class TrainOptions:
    model: str
    out: Path
    data: str = "stsb"
    method: str = "plain"
    recipes: tuple[str, ...] = ()
    copies: int = 1
    epochs: float = 1.0
    seed: int = 0
    head: str = "bi"
    loss: str | None = None  # bi: cosent (default) | cosine; cross: bce (default) | mse
    max_steps: int | None = None
    batch_size: int = 16
    lr: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_seq_length: int = 128
    limit: int | None = None  # a seeded random subset of the training pairs
    langs: tuple[str, ...] = ()
    switch_rate: float = 0.5
    resume: bool = False
    bf16: bool = False
    gradient_checkpointing: bool = False
    freeze_embeddings: bool = False
    save_steps: int = 500
    keep_checkpoints: bool = False
    logging_steps: int = 10
    progress: bool | None = None  # a step bar (default: when stderr is a terminal)
    device: str | None = None  # cpu | cuda (default: cuda when available)
    threads: int | None = None  # torch CPU threads (default: torch's)
    trust_remote_code: bool = False
    allow_pickle: bool = False  # pickle weights (pytorch_model.bin) can run code when loaded
    prompt: str | None = None  # before every training text and saved with the model (None: the base model's own)
    unlabeled: tuple[str, ...] | None = None  # consistency: sources of unlabeled text (None: afroadv.unlabeled's defaults)
    consistency_weight: float = DEFAULT_WEIGHT  # consistency: λ
    consistency_target: str = "frozen"  # consistency: frozen (the starting model, via the cache) | self (own clean embedding, no gradient)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.check()

    def check(self) -> TrainOptions:
        """Check (and normalise) the options; a bad one is one AfroadvError naming it.

        Runs when the options are made and again when `train` starts (a library caller may change a
        field in between), so nothing is loaded or written for a value that cannot work."""
        self.out = Path(self.out)
        self.recipes = tuple(self.recipes or ())
        self.langs = tuple(self.langs or ())
        if self.head not in HEADS:
            raise AfroadvError(f"--head must be one of {', '.join(HEADS)}, not {self.head!r}")
        self.loss = (self.loss or LOSSES[self.head][0]).lower()
        if self.loss not in LOSSES[self.head]:
            raise AfroadvError(f"--loss {self.loss!r} does not fit --head {self.head}; use {' or '.join(LOSSES[self.head])}")
        if self.method not in METHODS:
            raise AfroadvError(f"unknown method {self.method!r}; choose from {', '.join(METHODS)}")
        self.seed = check_seed(self.seed)
        self.copies = check_count(self.copies, "--copies")
        self.epochs = check_float(self.epochs, "--epochs", low=0, low_open=True, high=MAX_EPOCHS)
        self.max_steps = None if self.max_steps is None else check_count(self.max_steps, "--max-steps")
        self.batch_size = check_count(self.batch_size, "--batch-size")
        self.lr = check_float(self.lr, "--lr", low=0, low_open=True)
        self.warmup_ratio = check_float(self.warmup_ratio, "--warmup-ratio", low=0, high=1, high_open=True)
        self.weight_decay = check_float(self.weight_decay, "weight_decay", low=0)
        # 8: room for the special tokens of a sentence pair plus some text
        self.max_seq_length = check_count(self.max_seq_length, "--max-seq-length", minimum=8)
        self.limit = check_limit(self.limit)
        self.switch_rate = check_float(self.switch_rate, "--switch-rate", low=0, high=1)
        self.save_steps = check_count(self.save_steps, "--save-steps")
        self.logging_steps = check_count(self.logging_steps, "logging_steps")
        self.device = check_device(self.device, here=False)  # the name only; train() checks this machine
        if self.device not in (None, "cpu", "cuda", "cuda:0"):
            raise AfroadvError(f"--device {self.device}: train runs on cpu or cuda (for another GPU set "
                               "CUDA_VISIBLE_DEVICES, or use accelerate launch for several)")
        self.threads = None if self.threads is None else check_count(self.threads, "--threads")
        self.prompt = check_prompt(self.prompt)
        self.consistency_weight = check_float(self.consistency_weight, "--consistency-weight", low=0)
        if self.unlabeled is not None:
            self.unlabeled = tuple(self.unlabeled)
        if self.consistency_target not in TARGETS:
            raise AfroadvError(f"--consistency-target must be {' or '.join(TARGETS)}, not {self.consistency_target!r}")
        if self.method == "consistency":
            if self.head != "bi":
                raise AfroadvError("--method consistency trains bi-encoders (--head bi); for a cross-encoder "
                                   "use plain with --recipes, or rs-da")
            self.langs = self.langs or DEFAULT_LANGS
        elif self.unlabeled is not None:
            raise AfroadvError("--unlabeled only applies to --method consistency")
        return self

    def run_config(self) -> dict:
        d = asdict(self)
        d["out"] = str(self.out)
        keys = resume_keys(self.method)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k in keys}


# ----------------------------------------------------------------------------- data


@dataclass
class TrainData:
    pairs: list[Pair]
    scores: list[float]  # normalised to 0–1
    info: dict


def _stsb_train_file(folder: Path) -> Path | None:
    for name in ("sts-train.csv", "sts-train.tsv", "train.tsv"):
        if (folder / name).is_file():
            return folder / name
    return None


def _from_hub_stsb() -> tuple[list[Pair], dict]:
    """STS-B train from the hub (users' machines): `sentence-transformers/stsb`, scores already 0–1."""
    try:
        from datasets import load_dataset
    except ImportError:
        raise AfroadvError("reading STS-B from the hub needs `datasets`: pip install 'afroadv[ml]'") from None
    try:
        ds = load_dataset(STSB_HUB, split="train")
    except Exception as e:  # noqa: BLE001 - offline, DNS, missing ...: all become one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise AfroadvError(f"STS-B is not available locally and the hub copy {STSB_HUB} could not be loaded ({first}); "
                           "pass --data PATH (the STS benchmark's sts-train.csv or its folder)") from None
    pairs = [Pair(f"stsb-hub-{i}", "eng", "sts", r["sentence1"], r["sentence2"], float(r["score"]) * 5.0)
             for i, r in enumerate(ds)]
    return pairs, {"name": "stsb", "source": f"hub:{STSB_HUB}", "fingerprint": getattr(ds, "_fingerprint", None)}


def load_train_data(data: str, *, limit: int | None = None, seed: int = 0) -> TrainData:
    """`stsb` (../shared/data/stsbenchmark on maintainers' machines, else the hub) or a path: an STS-B
    folder or TSV, or a CSV / TSV / JSONL / Parquet with sentence1, sentence2, score.

    Scores are divided by the scale (5 for STS-B and for any file whose scores exceed 1; else 1) so
    the loss sees 0–1. `limit` keeps a seeded random subset (the same for every method)."""
    from afroadv.data.readers import read_pairs_file, read_stsb

    text = str(data).strip()
    if not text:
        raise AfroadvError("--data is empty: use stsb or a path")
    info: dict
    if text.lower() in ("stsb", "sts-b", "stsbenchmark"):
        shared = shared_data_dir()
        f = _stsb_train_file(shared / "stsbenchmark") if shared else None
        if f is not None:
            pairs = read_stsb(f, "eng")
            info = {"name": "stsb", "source": f"stsbenchmark/{f.name}", "sha256": sha256_file(f)}
        else:
            pairs, info = _from_hub_stsb()
        scale = 5.0
    else:
        path = Path(text).expanduser()
        if not path.exists():
            raise AfroadvError(f"training data not found: {path} (use stsb or a file/folder path)")
        if path.is_dir():
            f = _stsb_train_file(path)
            if f is None:
                raise AfroadvError(f"{path} is a folder without sts-train.csv: pass the training file itself")
            pairs, path = read_stsb(f, "eng"), f
            scale = 5.0
        else:
            pairs = read_pairs_file(path, "eng")
            missing = sum(p.score is None for p in pairs)
            if missing:
                raise AfroadvError(f"{path}: {missing} pair(s) without a gold score; training needs a score for every pair")
            scale = 5.0 if max(p.score for p in pairs) > 1.0 else 1.0
        info = {"name": path.name, "source": str(path), "sha256": sha256_file(path)}
    bad = [p for p in pairs if not 0.0 <= float(p.score) <= scale]
    if bad:
        raise AfroadvError(f"score {bad[0].score} of pair {bad[0].id} is outside 0–{scale:g}")
    ids = [p.id for p in pairs]
    if len(set(ids)) != len(ids):
        raise AfroadvError("training pair ids are not unique (augmentation is seeded by pair id)")
    info["pairs_available"] = len(pairs)
    if limit and limit < len(pairs):
        rng = derived_rng("train-subset", seed, len(pairs), limit)
        keep = sorted(rng.sample(range(len(pairs)), limit))
        pairs = [pairs[i] for i in keep]
        info["subset"] = {"n": limit, "how": "seeded random sample (derived from --seed), original order kept"}
    info["pairs"] = len(pairs)
    info["score_scale"] = scale
    info["score_normalisation"] = f"gold / {scale:g} -> 0-1 for the loss"
    return TrainData(pairs, [float(p.score) / scale for p in pairs], info)


# ----------------------------------------------------------------------------- model & output


def _versions() -> dict:
    out = {"afroadv": __version__, "python": platform.python_version()}
    for mod in ("torch", "transformers", "sentence_transformers", "accelerate", "datasets"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - not installed or broken: record None
            out[mod] = None
    return out


def _rank() -> int:
    """This process's global rank under torchrun / accelerate launch (0 when not distributed)."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def _checkpoints(ckdir: Path) -> list[Path]:
    """The checkpoint-N folders in `ckdir`, newest first."""
    if not ckdir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in ckdir.iterdir() if (m := _CHECKPOINT_DIR.match(p.name)) and p.is_dir()]
    return [p for _, p in sorted(found, key=lambda t: t[0], reverse=True)]


def _complete_checkpoints(ckdir: Path) -> list[Path]:
    """Checkpoints the Trainer finished writing (a run killed while saving leaves one without its state)."""
    return [ck for ck in _checkpoints(ckdir) if (ck / TRAINER_STATE).is_file()]


def _resume_point(ckdir: Path) -> Path | None:
    """The newest checkpoint that holds our loss history; else (checkpoints of an older afroadv, or
    a run killed between the Trainer's save and ours) the newest complete one."""
    complete = _complete_checkpoints(ckdir)
    return next((ck for ck in complete if (ck / LOSS_HISTORY).is_file()), complete[0] if complete else None)


def _is_start_leftover(p: Path) -> bool:
    """What a start that died before its first complete checkpoint can leave in OUT/checkpoints:
    our run config (older afroadv wrote it before loading the model), a half-written checkpoint,
    temp files of atomic writes, empty folders."""
    if p.is_dir():
        return (bool(_CHECKPOINT_DIR.match(p.name)) and not (p / TRAINER_STATE).is_file()) or not any(p.iterdir())
    return p.name == RUN_CONFIG or (p.name.startswith(".") and p.name.endswith(".tmp"))


def _check_out(opts: TrainOptions) -> Path | None:
    """Validate the output folder before any work; return the checkpoint to resume from (or None).

    A folder with neither a finished model nor a complete checkpoint is restartable: what an
    earlier, failed start left in it is cleared rather than blocking the rerun (with --resume
    there is nothing to resume). Under a distributed launch only rank 0 judges and clears a fresh
    folder (the other ranks may look after rank 0 has started writing into it)."""
    out, ckdir = opts.out, opts.out / CHECKPOINTS
    check_out_dir(out, "--out")  # not a file, creatable, writable (nothing is created yet)
    try:
        if (out / TRAIN_INFO).is_file():
            raise AfroadvError(f"{out} already holds a trained model; choose another --out or delete it")
        if not opts.resume:
            if _rank() > 0:
                return None
            if _complete_checkpoints(ckdir):
                raise AfroadvError(f"{out} holds checkpoints of an unfinished run: add --resume, "
                                   "or choose another --out")
            others = [p for p in out.iterdir() if p.name != CHECKPOINTS] if out.is_dir() else []
            ours = not ckdir.exists() or (ckdir.is_dir() and all(_is_start_leftover(p) for p in ckdir.iterdir()))
            if others or not ours:
                raise AfroadvError(f"--out {out} is not empty; choose a new folder")
            if ckdir.is_dir():
                shutil.rmtree(ckdir)  # only leftovers of a failed start (checked above)
            return None
        last = _resume_point(ckdir)
        if last is None:
            raise AfroadvError(f"--resume: no checkpoint in {ckdir}; run without --resume to start afresh")
        saved = ckdir / RUN_CONFIG
        if saved.is_file():
            try:
                old = json.loads(saved.read_text(encoding="utf-8"))
            except ValueError:
                raise AfroadvError(f"--resume: {saved} is not valid JSON") from None
            new = opts.run_config()
            diff = [k for k in resume_keys(opts.method) if option_as_run(old, k) != new.get(k)]
            if diff:
                raise AfroadvError("--resume with different options than the checkpointed run: "
                                   + ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in diff))
        return last
    except OSError as e:
        raise AfroadvError(f"cannot use --out {out}: {e.strerror or e}") from None


def resume_keys(method: str) -> tuple[str, ...]:
    """What a resumed run (or a study's finished cell) must share with the run it continues.
    Consistency's training table depends on the number of passes, hence on --epochs / --max-steps."""
    return _RESUME_KEYS + (("epochs", "max_steps") if method == "consistency" else ())


def option_as_run(recorded: dict, key: str):
    """A recorded option; one that an older afroadv did not record yet had its default then."""
    if key in recorded:
        return recorded[key]
    default = {f.name: f.default for f in fields(TrainOptions)}.get(key)
    return list(default) if isinstance(default, tuple) else default


def _undo_failed_start(out: Path, created: bool) -> None:
    """After a failure with no complete checkpoint, remove what this run wrote (nothing can be
    resumed from it, and it must not block the rerun); a checkpoint, in contrast, is kept for --resume."""
    if _rank() > 0:
        return
    ckdir = out / CHECKPOINTS
    try:
        if _complete_checkpoints(ckdir) or (out / TRAIN_INFO).is_file():
            return
        if ckdir.is_dir():
            shutil.rmtree(ckdir, ignore_errors=True)
        if created:
            out.rmdir()  # only if empty: never anything this run did not write
    except OSError:
        pass


def _code_files(folder: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    """Code under `folder` (Python files, compiled modules, scripts, __pycache__), outside `skip`."""
    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder)
        if rel.parts[0] in skip:
            continue
        if (p.is_file() or p.is_symlink()) and (p.suffix.lower() in CODE_SUFFIXES or "__pycache__" in rel.parts):
            found.append(p)
    return sorted(found)


def _strip_code(folder: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Delete the code that saving copied from the base model (sentence-transformers copies a custom
    module's .py files, transformers its custom modeling files); returns their relative names."""
    files = _code_files(folder, skip)
    for p in files:
        p.unlink(missing_ok=True)
    for d in sorted((d for d in folder.rglob("__pycache__") if d.is_dir()), reverse=True):
        if d.relative_to(folder).parts[0] not in skip:
            shutil.rmtree(d, ignore_errors=True)
    return [p.relative_to(folder).as_posix() for p in files]


def _resolve_base(opts: TrainOptions):
    from afroadv.models import resolve_model

    rm = resolve_model(opts.model, trust_remote_code=opts.trust_remote_code, allow_pickle=opts.allow_pickle)
    if opts.head == "bi" and rm.kind == "cross":
        raise AfroadvError(f"{opts.model} is a cross-encoder (one-output classifier); use --head cross")
    return rm


def _check_device(opts: TrainOptions) -> bool:
    import torch

    check_device(opts.device)  # cuda asked for on a machine without one: one line, before any work
    cuda = torch.cuda.is_available() if opts.device is None else opts.device.startswith("cuda")
    if opts.bf16 and not cuda:
        raise AfroadvError("--bf16 needs a GPU; on CPU training runs in fp32")
    if opts.bf16 and not torch.cuda.is_bf16_supported():
        raise AfroadvError("--bf16: this GPU does not support bfloat16")
    return cuda


def _version_kwargs(opts: TrainOptions) -> dict:
    """Arguments whose name depends on the transformers version. transformers 5 dropped
    `warmup_ratio` (a `warmup_steps` below 1 is now the ratio, rounded up the same way) and
    `save_safetensors` (it always writes safetensors), and renamed `gradient_checkpointing`."""
    import dataclasses

    from transformers import TrainingArguments  # the base class: sentence-transformers keeps old names

    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    kw = {checkpointing: opts.gradient_checkpointing}
    if "warmup_ratio" in fields:  # transformers < 5
        kw.update(warmup_ratio=opts.warmup_ratio, save_safetensors=True)
    else:
        kw.update(warmup_steps=opts.warmup_ratio)
    return kw


def _training_args(cls, opts: TrainOptions, cuda: bool, progress: bool, max_steps: int | None = None):
    max_steps = max_steps or opts.max_steps  # set, it wins over the epochs
    return cls(
        output_dir=str(opts.out / CHECKPOINTS),
        num_train_epochs=opts.epochs,
        max_steps=max_steps or -1,
        per_device_train_batch_size=opts.batch_size,
        learning_rate=opts.lr,
        weight_decay=opts.weight_decay,
        seed=opts.seed,
        data_seed=opts.seed,
        bf16=opts.bf16,
        save_strategy="steps",
        save_steps=opts.save_steps,
        save_total_limit=2,
        logging_steps=min(opts.logging_steps, max_steps) if max_steps else opts.logging_steps,
        report_to="none",
        disable_tqdm=True,  # afroadv.progress draws the bar (_progress_callback)
        use_cpu=not cuda,
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,
        **_version_kwargs(opts),
    )


def _progress_callback(opts: TrainOptions, progress: bool):
    """A bar over the optimizer steps, on the main process only (afroadv.progress)."""
    from transformers import TrainerCallback

    from afroadv.progress import Bar

    class StepBar(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = Bar(f"train {opts.method}", state.max_steps, enabled=progress).start()
                self.bar.advance(state.global_step)  # a resumed run starts part-way

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.advance()

        def on_train_end(self, args, state, control, **kwargs):
            self.close()

        def close(self):  # also when training fails: the display must not outlive the run
            if self.bar is not None:
                self.bar.close()

    return StepBar()


def _freeze_embeddings(module) -> int:
    """Freeze the word-embedding matrix (most of XLM-R's parameters); returns how many were frozen."""
    n = 0
    for name, p in module.named_parameters():
        if name.endswith("word_embeddings.weight"):
            p.requires_grad_(False)
            n += p.numel()
    if not n:
        raise AfroadvError("--freeze-embeddings: the model has no word_embeddings weight")
    return n


class _LossLog:
    """The loss of every optimizer step and the logged loss curve, saved into each checkpoint, so a
    resumed run reports the statistics of the whole run (the Trainer's own `training_loss` only
    sums the steps of the current process, divided by all steps)."""

    def __init__(self, opts: TrainOptions, history: list | None = None, step_losses: list | None = None):
        self.opts = opts
        self.history: list[dict] = list(history or [])
        self.step_losses: list[float | None] = list(step_losses or [])  # None: not finite, or not recorded
        self._pending: list = []  # this optimizer step's micro-batch losses (tensors)
        self._trainer = None

    @classmethod
    def load(cls, opts: TrainOptions, ck: Path | None) -> _LossLog:
        """The history saved with checkpoint `ck` (the one a resumed run starts from)."""
        if ck is None:
            return cls(opts)
        step = int(_CHECKPOINT_DIR.match(ck.name).group(1))
        try:
            if (ck / LOSS_HISTORY).is_file():
                d = json.loads((ck / LOSS_HISTORY).read_text(encoding="utf-8"))
                history = [h for h in d["history"] if int(h["step"]) <= step]
                losses = [None if v is None else float(v) for v in d["step_losses"]][:step]
                losses += [None] * (step - len(losses))
                return cls(opts, history, losses)
            # a checkpoint of an older afroadv: the Trainer's logged curve survives, single steps do not
            state = json.loads((ck / TRAINER_STATE).read_text(encoding="utf-8"))
            history = [{"step": int(e["step"]), "epoch": round(float(e.get("epoch") or 0), 4),
                        "loss": round(float(e["loss"]), 5)}
                       for e in state.get("log_history", []) if "loss" in e and int(e["step"]) <= step]
            return cls(opts, history, [None] * step)
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            why = f"{type(e).__name__}: {e}".splitlines()[0][:160]
            raise AfroadvError(f"--resume: cannot read the loss history in {ck} ({why})") from None

    def attach(self, trainer) -> None:
        """Record the loss of each micro-batch that `trainer.training_step` returns."""
        step = trainer.training_step

        def training_step(*args, **kwargs):
            loss = step(*args, **kwargs)
            self._pending.append(loss.detach())
            return loss

        trainer.training_step = training_step
        self._trainer = trainer

    def callback(self):
        from transformers import TrainerCallback

        log = self

        class Cb(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and "loss" in logs:
                    log.history.append({"step": state.global_step, "epoch": round(state.epoch or 0, 4),
                                        "loss": round(float(logs["loss"]), 5)})

            def on_step_end(self, args, state, control, **kwargs):
                log._end_step()

            def on_save(self, args, state, control, **kwargs):
                if state.is_world_process_zero:
                    log.save(Path(args.output_dir), state.global_step)

        return Cb()

    def _end_step(self) -> None:
        """One optimizer step's loss: the sum over its micro-batches (as the Trainer counts it),
        averaged over the processes of a distributed run (every rank calls this)."""
        if not self._pending:
            self.step_losses.append(None)
            return
        total = sum(self._pending[1:], self._pending[0])
        self._pending.clear()
        if self._trainer is not None and self._trainer.args.world_size > 1:
            total = self._trainer.accelerator.reduce(total.clone(), reduction="mean")
        v = float(total)
        self.step_losses.append(round(v, 6) if math.isfinite(v) else None)

    def save(self, ckdir: Path, step: int) -> None:
        """After the Trainer saved checkpoint-`step`: drop copied code (unless trusted), then write
        the run config and the history; the history file marks the checkpoint as ours and whole."""
        ck = ckdir / f"checkpoint-{step}"
        if not ck.is_dir():
            return
        if not self.opts.trust_remote_code:
            _strip_code(ck)
        write_text_atomic(ckdir / RUN_CONFIG, json.dumps(self.opts.run_config(), indent=2) + "\n")
        write_text_atomic(ck / LOSS_HISTORY, json.dumps({"step": step, "history": self.history,
                                                         "step_losses": self.step_losses[:step]}) + "\n")

    def stats(self, global_steps: int) -> dict:
        """Final and mean loss. The mean covers every step of the run (resumed ones included); it is
        None when a step's loss is unknown (a checkpoint of an older afroadv) or not finite."""
        known = [v for v in self.step_losses[:global_steps] if v is not None]
        complete = bool(known) and len(known) == global_steps
        return {
            "final_loss": self.history[-1]["loss"] if self.history else (round(known[-1], 5) if known else None),
            "mean_loss": round(sum(known) / len(known), 5) if complete else None,
            "loss_steps": len(known),
        }


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _iso1() -> dict:
    from afroadv.langs import registry

    return {code: lang.iso1 for code, lang in registry().items() if lang.iso1}


def _card(opts: TrainOptions, info: dict) -> str:
    """README.md: YAML front matter for the hub plus a human summary; afroadv_train.json holds it all."""
    aug, data, base = info["augmentation"], info["data"], info["base_model"]
    cons = info.get("consistency")
    target_langs = cons["draws"]["langs"] if cons else aug.get("langs", [])
    _ISO1 = _iso1()
    langs = ["en"] + [_ISO1.get(c, c) for c in target_langs]
    kind = "sentence-transformers" if opts.head == "bi" else "sentence-transformers (CrossEncoder)"
    front = {
        "library_name": "sentence-transformers",
        "pipeline_tag": "sentence-similarity" if opts.head == "bi" else "text-ranking",
        "tags": ["sentence-transformers", "afroadv", f"afroadv-{opts.method}", "semantic-textual-similarity"],
        "base_model": base.get("derived_from") or base["model_id"],
        "language": list(dict.fromkeys(langs)),
    }
    fm = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items())
    t = info["training"]
    rows = [
        ("base model", f"{base.get('model_label') or base['model_id']} (`--model {opts.model}`)"),
        ("head / loss", f"{opts.head} / {opts.loss}"),
        ("data", f"{data['name']} ({data['source']}), {data['pairs']} of {data['pairs_available']} pairs"
                 + (" (seeded subset)" if "subset" in data else "")),
        ("scores", data["score_normalisation"]),
        ("method", opts.method),
        ("copies per pair", str(aug["copies"])),
        ("recipes", ", ".join(cons["draws"]["recipes"] if cons else aug["recipes"]) or "none"),
        ("target languages", ", ".join(target_langs) or "-"),
        ("examples (originals + copies)", (f"{info['augmentation_stats']['examples']} "
                                           f"({info['augmentation_stats']['copies_changed_share'] * 100:.1f}% of copies changed)")),
        ("seed", str(opts.seed)),
        ("epochs / steps", f"{opts.epochs:g} / {t['global_steps']}" + (f" (--max-steps {opts.max_steps})" if opts.max_steps else "")),
        ("batch size / lr / warmup", f"{opts.batch_size} / {opts.lr:g} / {opts.warmup_ratio:g}"),
        ("max sequence length (training)", str(opts.max_seq_length)),
        ("frozen word embeddings", "yes" if opts.freeze_embeddings else "no"),
        ("precision", "bf16" if opts.bf16 else "fp32"),
        ("final training loss", f"{t['final_loss']}" if t["final_loss"] is not None else "-"),
        ("mean training loss (all steps)", f"{t['mean_loss']}" if t.get("mean_loss") is not None else "-"),
        ("custom code", ("copied from the base model under --trust-remote-code (loading this folder runs it): "
                         + ", ".join(f"`{c}`" for c in info["custom_code"])) if info.get("custom_code") else "none"),
        ("training time", f"{t['seconds']:.0f} s on {t['device']}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)),
    ]
    if cons:
        at = next(i for i, r in enumerate(rows) if r[0] == "examples (originals + copies)")
        rows[at + 1:at + 1] = _consistency_rows(cons)
    if base.get("model_weights"):
        rows.insert(1, ("base weights", f"{base['model_weights']}, derived from {base['derived_from']}"))
    table = "\n".join(f"| {a} | {b} |" for a, b in rows)
    prefix_note = (f"Every sentence is encoded with the prompt `{info['prompt']}` before it, in training and by "
                   "`afroadv evaluate --model DIR` (it is the default prompt in config_sentence_transformers.json)."
                   if info["prompt"] else "Sentences are encoded without any prompt, in training and by "
                   "`afroadv evaluate --model DIR`.")
    return f"""---
{fm}
---

# {opts.out.name}

A {kind} model fine-tuned on English STS by `afroadv train` (afroadv {__version__}).
Method **{opts.method}**: {_METHOD_TEXT[opts.method]}

| | |
|---|---|
{table}

{prefix_note}

Evaluate it on perturbed African-language sets:

```bash
afroadv evaluate --model {opts.out} --lang hau --recipe all --out results.json
```

Everything above, plus the augmentation statistics and the loss curve, is in `{TRAIN_INFO}`.
The training data keeps its own licence (STS-B: CC BY-SA 4.0 scores); the weights inherit the
base model's licence. Counter-fitted neighbour sets: Robust-XLT (Apache-2.0); lexicons: see
afroadv's data/lexicons/README.md.
"""


def _consistency_rows(cons: dict) -> list[tuple[str, str]]:
    stats, check, teacher = cons["draw_stats"], cons["overlap_check"], cons["teacher"]
    sources = "; ".join(f"{s['name']} ({s['sentences']} sentences, sha256 "
                        + ", ".join(f["sha256"][:12] for f in s["files"]) + ")" for s in cons["unlabeled_sources"])
    skipped = ", ".join(x["source"] for x in check["skipped_default_sources"])
    rows = [
        ("consistency weight (λ)", f"{cons['weight']:g}"),
        ("unlabeled sources", sources),
        ("unlabeled draws", f"{stats['draws']} ({stats['changed_share'] * 100:.1f}% changed by a recipe; "
                            + ", ".join(f"{k} {v}" for k, v in stats["per_recipe"].items()) + ")"),
        ("consistency target", f"the starting model, frozen ({teacher['dtype']}, {teacher['sentences']} sentences; "
                               f"{teacher['cache']['hits']} from the embedding cache)"
         if teacher.get("target") == "frozen" else "the model's own embedding of the clean sentence (stop-gradient)"),
        ("overlap check", f"{check['sentences_checked']} sentences against " + ", ".join(check["checked_against"])
                          + ": no shared sentence" + (f" (default sources skipped for overlap: {skipped})" if skipped else "")),
    ]
    if check["do_not_evaluate_on"]:
        rows.append(("trained on the text of", ", ".join(check["do_not_evaluate_on"])
                     + " — do not evaluate this model on these sets"))
    return rows


_METHOD_TEXT = {
    "plain": "the original training pairs (plus recipe-perturbed copies when recipes are given).",
    "rs-da": "randomized smoothing with data augmentation (Huang et al. 2021): each pair also appears as "
             "K copies in which every word with counter-fitted neighbours is replaced by a uniform draw from "
             "itself and its neighbours, in both sentences (seeded).",
    "consistency": "the training pairs, plus λ × (1 − cos) between the model's embedding of a perturbed unlabeled "
                   "African-language sentence and a target embedding of the clean sentence (the model's own without "
                   "gradient, or the frozen starting model's; see the consistency target below): the model learns that "
                   "a sentence and its perturbed self mean the same, with no target-language label.",
    "codeswitch-aug": "each pair also appears as K copies in which a share of the English content words is "
                      "replaced by a translation into one target language (afroadv lexicons; seeded).",
}


def _weights_fingerprint(folder: Path) -> str:
    from afroadv.models._files import files_sha

    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.relative_to(folder).parts[0] != CHECKPOINTS
                   and p.suffix in (".safetensors", ".json") and p.name not in (TRAIN_INFO, "afroadv_build.json"))
    return files_sha(folder, names, extra="afroadv-train")


# ----------------------------------------------------------------------------- training


def train(opts: TrainOptions) -> dict:
    """Train, save the model folder to `opts.out`, return the summary written to afroadv_train.json."""
    opts.check()
    progress = sys.stderr.isatty() if opts.progress is None else opts.progress
    # everything cheap and checkable first: bad input fails before any model loads
    if opts.method == "consistency":  # the STS pairs as plain has them; the recipes rewrite the unlabeled text
        augmenter = Augmenter("plain", 1, opts.seed)
        consistency = _Consistency.prepare(opts)
    else:
        augmenter = Augmenter(opts.method, opts.copies, opts.seed, opts.recipes, opts.langs, opts.switch_rate)
        consistency = None
    cuda = _check_device(opts)
    if opts.threads is not None:
        import torch

        torch.set_num_threads(opts.threads)
    created = not opts.out.exists()
    try:
        resume_from = _check_out(opts)
    except BaseException:
        if created and _rank() == 0 and opts.out.is_dir():
            try:
                opts.out.rmdir()  # only if empty: a rejected run leaves no folder behind
            except OSError:
                pass
        raise
    try:
        return _train(opts, augmenter, consistency, resume_from, cuda, progress)
    except BaseException:
        _undo_failed_start(opts.out, created)
        raise


@dataclass
class _Consistency:
    """What --method consistency adds: the draws over the unlabeled pools, where the text came from,
    the overlap check, and (once computed) the teacher's record and the draw statistics."""

    draws: ConsistencyDraws
    sources: list
    overlap: dict
    teacher: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    steps: int | None = None  # plain's optimizer steps for the same --epochs / --max-steps
    loss = None

    @classmethod
    def prepare(cls, opts: TrainOptions) -> _Consistency:
        """Everything checkable before a model loads: recipes, languages, sources, the overlap guard."""
        from afroadv.unlabeled import check_overlap, resolve_sources

        draws = ConsistencyDraws(opts.recipes, opts.langs, opts.seed)
        sources, overlap = check_overlap(resolve_sources(opts.unlabeled, draws.langs), draws.langs)
        pools: dict[str, list[str]] = {}
        for src in sources:
            pools.setdefault(src.lang, []).extend(src.sentences)
        missing = [c for c in draws.langs if not pools.get(c)]
        if missing:
            raise AfroadvError(f"no unlabeled text left for {', '.join(missing)} after the overlap check: "
                               "pass --unlabeled LANG:PATH")
        draws.set_pools({c: tuple(dict.fromkeys(v)) for c, v in pools.items()})
        return cls(draws, sources, overlap)

    def columns(self, opts: TrainOptions, rm, prompt: str, examples: list, cuda: bool) -> dict:
        """The training table: each STS example (repeated for each whole epoch, so every pass draws
        fresh sentences) with one unlabeled draw; label = [gold, *teacher embedding of the clean text].
        The run stops at plain's step count (self.steps), set as the trainer's max_steps."""
        from afroadv.consistency import draw_stats, teacher_embeddings

        world = max(1, int(os.environ.get("WORLD_SIZE", "1") or 1))
        per_pass = math.ceil(len(examples) / (opts.batch_size * world))  # optimizer steps per epoch, as plain has
        steps = opts.max_steps or math.ceil(opts.epochs * per_pass)
        passes = max(1, math.ceil(steps / per_pass))  # every pass draws new sentences, also past --epochs with --max-steps
        rows = examples * passes
        self.steps = steps
        t0 = time.perf_counter()
        draws = self.draws.draws(len(rows))
        self.stats = {**draw_stats(draws), "passes": passes, "seconds": round(time.perf_counter() - t0, 1)}
        columns = {
            "sentence1": [prompt + e.sentence1 for e in rows],
            "sentence2": [prompt + e.sentence2 for e in rows],
            "unlabeled": [prompt + d.perturbed for d in draws],
        }
        said = f"[train] consistency: {len(draws)} unlabeled draws ({self.stats['changed_share'] * 100:.0f}% changed) " \
               f"over {', '.join(self.draws.langs)}"
        if opts.consistency_target == "self":  # the student's own clean embedding, each step, without gradient
            columns["unlabeled_clean"] = [prompt + d.text for d in draws]
            columns["label"] = [[float(e.score)] for e in rows]
            self.teacher = {"target": "self", "what": "the student's own embedding of the clean sentence, "
                                                      "recomputed each step without gradient"}
            _say(said)
            return columns
        vectors, self.teacher = teacher_embeddings(
            rm, [d.text for d in draws], prompt=prompt, device="cuda" if cuda else "cpu",
            dtype="bf16" if opts.bf16 else "fp32", max_length=opts.max_seq_length, batch_size=max(32, opts.batch_size))
        self.teacher["target"] = "frozen"
        _say(f"{said}; teacher embeddings: {self.teacher['cache']['hits']} cached, {self.teacher['cache']['misses']} encoded")
        columns["label"] = [[float(e.score), *map(float, v)] for e, v in zip(rows, vectors)]
        return columns

    def describe(self, opts: TrainOptions) -> dict:
        from afroadv.consistency import parts_summary

        target = "teacher(x), the starting model frozen" if opts.consistency_target == "frozen" else "stop-gradient student(x)"
        return {"weight": opts.consistency_weight, "target": opts.consistency_target,
                "distance": f"1 - cos(student(x'), {target})",
                "draws": self.draws.describe(), "draw_stats": self.stats, "teacher": self.teacher,
                "unlabeled_sources": [s.describe() for s in self.sources], "overlap_check": self.overlap,
                "losses": parts_summary(self.loss.parts) if self.loss is not None else {}}


def _train(opts: TrainOptions, augmenter: Augmenter, consistency: _Consistency | None, resume_from: Path | None,
           cuda: bool, progress: bool) -> dict:
    losses = _LossLog.load(opts, resume_from)
    data = load_train_data(opts.data, limit=opts.limit, seed=opts.seed)
    rm = _resolve_base(opts)

    t0 = time.perf_counter()
    examples, stats = augmenter.augment(data.pairs, data.scores)
    if consistency is None:
        _say(f"[train] {stats['originals']} pairs + {stats['copies']} {opts.method} copies = {stats['examples']} examples "
             f"({time.perf_counter() - t0:.1f} s)")

    import transformers
    from datasets import Dataset

    transformers.set_seed(opts.seed)  # a cross-encoder's new head is initialised before the trainer seeds
    prompt = rm.query_prefix if opts.prompt is None else opts.prompt  # trained with it, saved with it
    if consistency is not None:
        columns = consistency.columns(opts, rm, prompt, examples, cuda)
    else:
        columns = {"sentence1": [prompt + e.sentence1 for e in examples],
                   "sentence2": [prompt + e.sentence2 for e in examples],
                   "score": [float(e.score) for e in examples]}
    dataset = Dataset.from_dict(columns)
    # Nothing goes into OUT before the first checkpoint: the run config and the loss history are
    # written with each checkpoint (_LossLog.save), so a start that fails earlier blocks nothing.
    step_bar = _progress_callback(opts, progress)
    callbacks = [losses.callback(), step_bar]
    load_kw = rm.st_kwargs()  # the loading policy's keywords (trust_remote_code, safetensors only, revision)
    frozen = 0
    try:
        if opts.head == "bi":
            trainer, model, restore_len = _bi_trainer(opts, rm, dataset, cuda, progress, callbacks, load_kw,
                                                      consistency)
            inner = model[0].auto_model
            # the transformers pooler (dense + tanh on <s>) is never used by sentence-transformers'
            # pooling; left trainable it gets no gradient, which DDP rejects
            for name, p in inner.named_parameters():
                if name.startswith("pooler."):
                    p.requires_grad_(False)
        else:
            trainer, model, restore_len = _cross_trainer(opts, rm, dataset, cuda, progress, callbacks, load_kw)
            inner = model.model
        if opts.freeze_embeddings:
            frozen = _freeze_embeddings(inner)
        losses.attach(trainer)
        t1 = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        seconds = time.perf_counter() - t1
    except AfroadvError:
        raise
    except (OSError, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise AfroadvError(f"training failed: {first}") from None
    finally:
        step_bar.close()
    restore_len()
    _keep_prompt(model, prompt)
    _save_final(trainer, model, inner, opts.out)
    if not trainer.is_world_process_zero():
        return {}
    import torch

    global_steps = int(result.global_step)
    info = {
        "afroadv_version": __version__,
        "kind": "afroadv-train",
        "head": opts.head,
        "loss": opts.loss,
        "prompt": prompt,
        "base_model": {"alias_or_path": opts.model, **rm.identity(), "fingerprint": rm.fingerprint,
                       "arch": rm.arch},
        "data": data.info,
        "augmentation": augmenter.describe(),
        "augmentation_stats": stats,
        **({"consistency": consistency.describe(opts)} if consistency is not None else {}),
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(opts).items()
                    if k not in ("out", "progress", "extra")},
        "training": {
            "global_steps": global_steps,
            "epochs_done": round(float(trainer.state.epoch or 0), 4),
            **losses.stats(global_steps),
            "seconds": round(seconds, 1),
            "device": "cuda" if cuda else "cpu",
            "world_size": int(trainer.args.world_size),
            "threads": torch.get_num_threads(),
            "frozen_parameters": frozen,
            "resumed_from": resume_from.name if resume_from else None,
            "history": losses.history,
        },
        "custom_code": [],
        "versions": _versions(),
    }
    _finish(opts, info)
    return info


def _finish(opts: TrainOptions, info: dict) -> None:
    from afroadv.models._files import BUILD_INFO

    out = opts.out
    # Code that saving copied from the base model ships only if the user trusted it, and then the
    # card says so (loading the folder runs it).
    if opts.trust_remote_code:
        info["custom_code"] = [p.relative_to(out).as_posix() for p in _code_files(out, skip=(CHECKPOINTS,))]
        if info["custom_code"]:
            _say(f"[train] the model folder carries the base model's code (--trust-remote-code): "
                 f"{', '.join(info['custom_code'])}")
    else:
        _strip_code(out, skip=(CHECKPOINTS,))
        if opts.keep_checkpoints:
            _strip_code(out / CHECKPOINTS)
    # ST writes its own generated README.md; ours records what afroadv did (data, method, seed, versions)
    write_text_atomic(out / "README.md", _card(opts, info))
    write_text_atomic(out / BUILD_INFO, json.dumps({
        "builder": "afroadv-train", "method": opts.method, "head": opts.head, "seed": opts.seed,
        "base_model": info["base_model"]["model_id"], "query_prefix": info["prompt"],
        "fingerprint": _weights_fingerprint(out),
    }, indent=2) + "\n")
    mask = os.umask(0)
    os.umask(mask)
    for p in out.rglob("*"):
        if CHECKPOINTS in p.relative_to(out).parts:
            continue
        if p.is_file() and p.suffix in (".bin", ".pt", ".pth", ".pkl"):
            p.unlink()  # training_args.bin is a pickle: no pickle in the shipped folder
        elif p.is_file():
            os.chmod(p, 0o666 & ~mask)  # some writers create 0600 files
    # written after everything else: its presence marks a finished run
    write_text_atomic(out / TRAIN_INFO, json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    # last: a run killed before this point still has its checkpoints to --resume from
    if not opts.keep_checkpoints:
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)


def _keep_prompt(model, prompt: str) -> None:
    """The training prompt becomes the saved model's default (config_sentence_transformers.json), so
    sentence-transformers and `afroadv evaluate` put it before every text, as training did."""
    if prompt and hasattr(model, "prompts"):
        model.prompts = {**(model.prompts or {}), "query": prompt}
        model.default_prompt_name = "query"


def _inner_state_dict(model, inner, full: dict) -> dict:
    """The transformers model's own keys out of a full state dict of the wrapping sentence-transformers
    model ('0.model.encoder...' -> 'encoder...'), whatever the wrapper's attribute names are."""
    prefix = next(name for name, mod in model.named_modules() if mod is inner)
    prefix = f"{prefix}." if prefix else ""
    out = {k[len(prefix):]: v for k, v in full.items() if k.startswith(prefix)}
    if not out:
        raise AfroadvError("could not find the transformer's weights in the gathered state dict")
    return out


def _save_final(trainer, model, inner, out: Path) -> None:
    """Save the trained model as a normal folder (safetensors).

    Under FSDP each rank holds a shard, and sentence-transformers' save ignores the state dict the
    Trainer gathers; so the full state dict is gathered here (a collective: every rank calls it),
    and rank 0 writes the folder's modules/tokenizer and then the gathered weights over them."""
    if not getattr(trainer, "is_fsdp_enabled", False):
        trainer.save_model(str(out))
        return
    full = trainer.accelerator.get_state_dict(trainer.model_wrapped)
    if trainer.is_world_process_zero():
        model.save_pretrained(str(out))
        inner.save_pretrained(str(out), state_dict=_inner_state_dict(model, inner, full), safe_serialization=True)
    trainer.accelerator.wait_for_everyone()


def _bi_trainer(opts, rm, dataset, cuda, progress, callbacks, load_kw, consistency=None):
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )

    try:
        from sentence_transformers.sentence_transformer.losses import (
            CoSENTLoss,
            CosineSimilarityLoss,
        )
    except ImportError:  # sentence-transformers < 5.2
        from sentence_transformers.losses import CoSENTLoss, CosineSimilarityLoss

    try:
        model = SentenceTransformer(rm.source, device="cuda" if cuda else "cpu", **load_kw)
    except Exception as e:  # noqa: BLE001 - any loader failure becomes one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise AfroadvError(f"cannot load {opts.model} for training: {first}") from None
    full_len = model.max_seq_length
    model.max_seq_length = min(opts.max_seq_length, full_len or opts.max_seq_length)

    def restore():
        model.max_seq_length = full_len  # evaluate at the model's own limit, not the training one

    loss = CoSENTLoss(model) if opts.loss == "cosent" else CosineSimilarityLoss(model)
    if consistency is not None:
        from afroadv.consistency import consistency_loss

        loss = consistency.loss = consistency_loss(model, loss, opts.consistency_weight, opts.consistency_target)
    args = _training_args(SentenceTransformerTrainingArguments, opts, cuda, progress,
                          consistency.steps if consistency is not None else None)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss, callbacks=callbacks)
    return trainer, model, restore


def _cross_trainer(opts, rm, dataset, cuda, progress, callbacks, load_kw):
    from sentence_transformers.cross_encoder import (
        CrossEncoder,
        CrossEncoderTrainer,
        CrossEncoderTrainingArguments,
    )
    from sentence_transformers.cross_encoder.losses import (
        BinaryCrossEntropyLoss,
        MSELoss,
    )

    try:
        model = CrossEncoder(rm.source, num_labels=1, device="cuda" if cuda else "cpu", **load_kw)
    except Exception as e:  # noqa: BLE001 - any loader failure becomes one line
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise AfroadvError(f"cannot load {opts.model} for training: {first}") from None
    attr = "max_seq_length" if hasattr(type(model), "max_seq_length") else "max_length"  # renamed in ST 5.x
    full_len = getattr(model, attr, None) or int(getattr(model.tokenizer, "model_max_length", 512) or 512)
    full_len = full_len if full_len < 100_000 else 512
    setattr(model, attr, min(opts.max_seq_length, full_len))

    def restore():
        setattr(model, attr, full_len)  # evaluate at the model's own limit, not the training one

    loss = BinaryCrossEntropyLoss(model) if opts.loss == "bce" else MSELoss(model)
    args = _training_args(CrossEncoderTrainingArguments, opts, cuda, progress)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss, callbacks=callbacks)
    return trainer, model, restore


def estimate_steps(n_examples: int, batch_size: int, epochs: float, world_size: int = 1) -> int:
    """Optimizer steps for a run (documentation and `--max-steps` planning)."""
    return math.ceil(n_examples / (batch_size * world_size)) * math.ceil(epochs) if epochs == int(epochs) else \
        math.ceil(math.ceil(n_examples / (batch_size * world_size)) * epochs)


__all__ = ["HEADS", "LOSSES", "METHODS", "TrainOptions", "TrainPair", "estimate_steps", "load_train_data", "train"]
