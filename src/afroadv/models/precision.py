"""Where a model runs and in what precision: the device, the compute dtype, and how to apply it.

On CPU the weights stay float32 and bf16 is applied with `torch.autocast` (matrix products in bf16,
layer norms and softmax in float32): on CPUs with native bf16 (AMX or AVX512-BF16) that is ~1.7×
faster for e5-small with cosine ≥ 0.99998 to float32, so it is the default there; elsewhere bf16
is emulated and several times slower, so float32 is the default. On GPU the weights load in bf16
(fp16 where bf16 is unsupported), which also halves their memory.
"""

from __future__ import annotations

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


def pick_dtype(device: str, dtype: str | None = None) -> str:
    """The compute dtype: the one asked for, else the fastest faithful one for this device (module doc)."""
    import torch

    name = check_dtype(dtype)
    on_gpu = device.startswith("cuda")
    if name == "float16" and not on_gpu:
        raise AfroadvError("fp16 needs a GPU; on CPU use bf16 (fast where the CPU has AMX or AVX512-BF16) or fp32")
    if name is not None:
        return name
    if on_gpu:
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "bfloat16" if cpu_native_bf16() else "float32"


def load_dtype(device: str, dtype: str) -> str:
    """The dtype the weights load in: the compute dtype on GPU; float32 on CPU (bf16 there is autocast)."""
    return dtype if device.startswith("cuda") else "float32"


def compute_context(device: str, dtype: str):
    """Autocast for bf16 on CPU; nothing otherwise (GPU weights already carry the dtype)."""
    if device.startswith("cuda") or dtype == "float32":
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
