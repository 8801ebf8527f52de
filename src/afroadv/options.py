"""Checks for option values, shared by every command and the Python API: a bad value is one
AfroadvError naming the option, raised before any work starts."""

from __future__ import annotations

import math

from afroadv.errors import AfroadvError

MAX_SEED = 2**63 - 1  # seeds name random streams through 64-bit integers (and numpy/torch take 63 bits)


def check_seed(value, name: str = "--seed") -> int:
    """A seed in [0, 2**63)."""
    v = _integer(value, name)
    if not 0 <= v <= MAX_SEED:
        raise AfroadvError(f"{name} must be between 0 and 2**63 - 1, got {v}")
    return v


def check_seeds(value, name: str = "--seeds") -> list[int]:
    """Several seeds, each drawing the perturbation once, pooled (`--seeds 0,1,2`): text with commas or
    a sequence; at least one, each in [0, 2**63), none twice. Returned sorted: the draws are a set (the
    first, smallest seed streams the pooled bootstrap), so the order given does not change the results."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
        items = [] if items == [""] else items
    else:
        try:
            items = list(value)
        except TypeError:
            raise AfroadvError(f"{name} must be a list of seeds such as 0,1,2, got {value!r}") from None
    if not items:
        raise AfroadvError(f"{name} must list at least one seed, e.g. {name} 0,1,2")
    seeds = [check_seed(v, name) for v in items]
    twice = next((v for i, v in enumerate(seeds) if v in seeds[:i]), None)
    if twice is not None:
        raise AfroadvError(f"{name} lists seed {twice} twice")
    return sorted(seeds)


def check_count(value, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole number of things (pairs, resamples, steps, texts per batch), at least `minimum`."""
    v = _integer(value, name)
    if v < minimum:
        raise AfroadvError(f"{name} must be at least {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise AfroadvError(f"{name} must be at most {maximum}, got {v}")
    return v


def check_limit(value, name: str = "--limit") -> int | None:
    """`--limit N`: None for everything, else N ≥ 1 (0 does not mean 'all', and -1 does not mean 'all but one')."""
    return None if value is None else check_count(value, name)


def check_float(value, name: str, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """A finite number within [low, high] (or open at an end)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise AfroadvError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise AfroadvError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise AfroadvError(f"{name} must be {'above' if low_open else 'at least'} {low:g}, got {v:g}")
    if high is not None and (v > high or (high_open and v == high)):
        raise AfroadvError(f"{name} must be {'below' if high_open else 'at most'} {high:g}, got {v:g}")
    return v


def check_dir_margin(value, name: str = "--dir-margin") -> float:
    """How much a directional pair's predicted similarity must fall to pass: a number in [0, 2]
    (cosines and similarity scores move within 2)."""
    return check_float(value, name, low=0.0, high=2.0)


def check_device(value: str | None, name: str = "--device", *, here: bool = True) -> str | None:
    """None (pick one), or a device torch knows — and, with `here`, that this machine has: cpu,
    cuda, cuda:N, mps (a sweep's cells may run on other machines' GPUs: it checks the name only)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()) or (index and kind != "cuda"):
        raise AfroadvError(f"{name}: unknown device {value!r} (cpu, cuda, cuda:N or mps)")
    if kind == "cpu" or not here:
        return text
    import torch  # (only commands that load a model take --device)

    if kind == "cuda":
        if not torch.cuda.is_available():
            raise AfroadvError(f"{name} {value}: no CUDA device is available here (use cpu)")
        if index and int(index) >= torch.cuda.device_count():
            raise AfroadvError(f"{name} {value}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise AfroadvError(f"{name} {value}: MPS is not available here (use cpu)")
    return text


def check_prompt(prompt: str | None, name: str = "--prompt") -> str | None:
    """None (each model's own default) or the text put before every sentence a model sees."""
    if prompt is not None and not isinstance(prompt, str):
        raise AfroadvError(f"{name} must be text, got {type(prompt).__name__}")
    if prompt is not None and ("\n" in prompt or len(prompt) > 1000):
        raise AfroadvError(f"{name} must be one line of at most 1000 characters")
    return prompt


def check_script(value, name: str = "--script") -> str | None:
    """None, or one of afroadv's scripts by name or ISO 15924 code (Latin / Latn, ...)."""
    from afroadv.text import ISO_15924

    if value is None:
        return None
    key = str(value).strip().lower()
    for script, iso in ISO_15924.items():
        if key in (script.lower(), iso.lower()):
            return script
    raise AfroadvError(f"{name} {value!r}: unknown script; afroadv knows {', '.join(ISO_15924)} "
                       f"(or {', '.join(ISO_15924.values())})")


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = int(value)
        except (TypeError, ValueError, OverflowError):
            raise AfroadvError(f"{name} must be a whole number, got {value!r}") from None
    return value


# The help of the two model-safety switches, shared by every command that loads a model.
TRUST_REMOTE_CODE_HELP = ("Allow a model's own Python code (a folder's or a hub repo's custom modules) to run; "
                          "only for models you trust.")
ALLOW_PICKLE_HELP = ("Allow pickle weights (pytorch_model.bin, *.pt ...), which can run code when loaded; only for "
                     "models you trust (safetensors are used whenever present).")
RETRIEVAL_K_HELP = "Invariance sets: a perturbed sentence is retrieved among its original and K-1 others (at most the set's size)."
DIR_MARGIN_HELP = ("Directional recipes (expect: decrease — numswap, entityswap, negation, wordswap): a changed pair passes "
                   "when its predicted similarity falls by more than 0 and by at least this much (0 to 2; default 0).")
PROMPT_HELP = ("Text put before every sentence the model sees, e.g. 'query: ' (default: the model's own: e5-small's "
               "'query: ', a trained folder's saved prompt; --prompt '' for none). Recorded in the results and the cache key.")
SEEDS_HELP = ("Several seeds, e.g. 0,1,2 (instead of --seed): each set is drawn once per seed (clean sentences encoded "
              "once) and reported as one row, its drop the mean over the draws with a 95% CI over pairs x draws, each "
              "seed's own values under per_seed.")
SCRIPT_HELP = ("A language outside the registry: the script its text is written in, Latin | Arabic | Ethiopic "
               "(default: the script most of the dataset's letters are written in).")
DTYPE_NAMES = {"fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16",
               "half": "float16", "bf16": "bfloat16", "bfloat16": "bfloat16"}
DTYPE_HELP = ("fp32 | bf16 | fp16. Default: bf16 on a GPU that supports it (else fp16) and on CPUs with native bf16 "
              "(AMX or AVX512-BF16), fp32 on other CPUs. Part of the embedding-cache key and the results manifest.")



def check_dtype(dtype: str | None) -> str | None:
    """A --dtype value as torch names it (float32, bfloat16, float16); None stays None (the default)."""
    if dtype is None:
        return None
    name = DTYPE_NAMES.get(str(dtype).strip().lower())
    if name is None:
        raise AfroadvError(f"unknown --dtype {dtype!r}: use fp32, bf16 or fp16")
    return name
