"""The GPU code paths (`gpu` marker): half precision and `device_map="auto"` on CUDA. They skip on a
machine without CUDA (tests never require a GPU); benchmarks/gpu_check.sh runs them on a GPU box."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    return "cuda"


def _hau_sentences(n: int) -> list[str]:
    from afroadv.data.catalog import load_dataset
    from afroadv.langs import get_language

    pairs = load_dataset(get_language("hau"), "semrel", "test").pairs
    return list(dict.fromkeys(t for p in pairs for t in (p.sentence1, p.sentence2)))[:n]


def test_bf16_on_cuda_agrees_with_fp32(cuda, e5_small):
    from afroadv.models import BiEncoder

    texts = _hau_sentences(200)
    fp32 = BiEncoder("e5-small", device=cuda, dtype="fp32", cache=False).encode(texts)
    bf16 = BiEncoder("e5-small", device=cuda, dtype="bf16", cache=False).encode(texts)
    assert bf16.dtype == np.float32 and np.isfinite(bf16).all()
    assert float((fp32 * bf16).sum(axis=1).min()) >= 0.999


def test_xl_class_loads_with_device_map_on_cuda(cuda):
    from afroadv.models import BiEncoder

    texts = _hau_sentences(32)
    gpu = BiEncoder("tiny-xlmr-xl", device=cuda, dtype="fp32", cache=False)
    on_gpu = gpu.encode(texts)
    assert getattr(gpu._model, "hf_device_map", None)  # the XL class is placed by accelerate, as for xlmr-xl/xxl
    on_cpu = BiEncoder("tiny-xlmr-xl", device="cpu", dtype="fp32", cache=False).encode(texts)
    assert float((on_gpu * on_cpu).sum(axis=1).min()) >= 0.9999
