"""Where a model runs and in what precision: the device, the compute dtype, and how to apply it.

On CPU the weights stay float32 and bf16 is applied with `torch.autocast` (matrix products in bf16,
layer norms and softmax in float32): on CPUs with native bf16 (AMX or AVX512-BF16) that is ~1.7×
faster for e5-small with cosine ≥ 0.99998 to float32, so it is the default there; elsewhere bf16
is emulated and several times slower, so float32 is the default. On GPU the weights load in bf16
(fp16 where bf16 is unsupported), which also halves their memory. $AFROADV_DTYPE sets the default
(the tests pin fp32 with it, so that their fp32 references hold on any CPU).
"""

from __future__ import annotations

import os
from contextlib import nullcontext

from afroadv.errors import AfroadvError
from afroadv.options import check_device, check_dtype


def pick_device(device: str | None = None) -> str:
    """The requested device (checked like every command's --device), else the first CUDA GPU, else CPU."""
    checked = check_device(device)
    if checked is not None:
        return checked
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_native_bf16() -> bool:
    """True when this CPU computes bf16 in hardware (AMX tiles or AVX512-BF16), as torch sees it."""
    import torch

    caps = getattr(torch.cpu, "get_capabilities", None)
    if caps is None:
        return False
    found = caps()
    return bool(found.get("amx_bf16") or found.get("avx512_bf16"))


def _on_cpu(device: str) -> bool:
    return device == "cpu" or device.startswith("cpu:")


def pick_dtype(device: str, dtype: str | None = None) -> str:
    """The compute dtype: the one asked for, else $AFROADV_DTYPE, else the fastest faithful one for
    this device (module doc; other accelerators than CUDA: fp32)."""
    import torch

    name = check_dtype(dtype)
    if name is None and os.environ.get("AFROADV_DTYPE"):
        try:
            name = check_dtype(os.environ["AFROADV_DTYPE"])
        except AfroadvError as e:
            raise AfroadvError(f"AFROADV_DTYPE: {e}") from None
    if name == "float16" and _on_cpu(device):
        raise AfroadvError("fp16 needs a GPU; on CPU use bf16 (fast where the CPU has AMX or AVX512-BF16) or fp32")
    if name is not None:
        return name
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if _on_cpu(device):
        return "bfloat16" if cpu_native_bf16() else "float32"
    return "float32"


def load_dtype(device: str, dtype: str) -> str:
    """The dtype the weights load in: float32 on CPU (bf16 there is autocast), else the compute dtype."""
    return "float32" if _on_cpu(device) else dtype


def autocast(device: str, dtype: str) -> bool:
    """Whether `dtype` is applied by autocast over float32 weights (CPU bf16) rather than by the weights."""
    return load_dtype(device, dtype) != dtype


def compute_context(device: str, dtype: str):
    """Autocast for bf16 on CPU; nothing otherwise (accelerator weights already carry the dtype)."""
    if not autocast(device, dtype):
        return nullcontext()
    import torch

    return torch.autocast("cpu", dtype=getattr(torch, dtype))


def dtype_kwargs(dtype: str) -> dict:
    """transformers renamed `torch_dtype` to `dtype` in 4.56; pass whichever this version knows."""
    import torch
    import transformers
    from packaging.version import Version

    key = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
    return {key: getattr(torch, dtype)}
