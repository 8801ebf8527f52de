"""Refuse, in one line, an `accelerate launch` with a GPU config on a machine without the GPUs.

accelerate's launcher starts every process anyway, and each then dies deep inside torch with its own
traceback (hundreds of lines for the shipped 8-GPU configs). The variables the launcher sets say
what the config asked for, so `afroadv train` can check it before anything heavy loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from afroadv.errors import AfroadvError

# set by `accelerate launch` in every process it starts (simple and torchrun launchers alike)
_LAUNCHED_BY_ACCELERATE = ("ACCELERATE_MIXED_PRECISION", "ACCELERATE_USE_CPU", "ACCELERATE_DYNAMO_BACKEND")
_TRUE = {"1", "true", "yes", "on"}


def gpus_requested(env: Mapping[str, str] | None = None) -> int:
    """How many GPUs the accelerate config of this process asks for (0: not under accelerate, or a CPU config)."""
    env = os.environ if env is None else env
    if not any(k in env for k in _LAUNCHED_BY_ACCELERATE):
        return 0
    if env.get("ACCELERATE_USE_CPU", "").strip().lower() in _TRUE:
        return 0
    for key in ("LOCAL_WORLD_SIZE", "WORLD_SIZE"):  # torchrun's (multi-GPU, FSDP); one per process on this machine
        try:
            return max(1, int(env[key]))
        except (KeyError, ValueError):
            continue
    return 1  # the simple launcher: one process on one GPU


def check_accelerate_env(env: Mapping[str, str] | None = None, gpus_here: int | None = None) -> None:
    """One AfroadvError when the accelerate config needs more GPUs than this machine has.
    `gpus_here`: the CUDA device count (asked of torch only when a GPU config is in use)."""
    needed = gpus_requested(env)
    if not needed:
        return
    if gpus_here is None:
        import torch

        gpus_here = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus_here >= needed:
        return
    if (env if env is not None else os.environ).get("LOCAL_RANK", "0") != "0":
        raise SystemExit(2)  # every process fails alike; rank 0 alone says why (the launcher then reports its failed children)
    found = "none found" if gpus_here == 0 else f"{gpus_here} found"
    raise AfroadvError(f"accelerate launch: this config needs {needed} GPU{'s' if needed > 1 else ''}, {found}; run plain "
                       "`afroadv train` or use configs/accelerate/cpu.yaml")
