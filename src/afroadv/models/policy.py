"""Model-loading policy: what a model folder may make us run, decided from its JSON alone.

Why: transformers and sentence-transformers import Python code that a folder's JSON names (custom
module types in modules.json, `auto_map` in config.json / tokenizer_config.json, the types a
Router module lists), and pickle weights (pytorch_model.bin, *.pt, *.pth, *.pkl, *.ckpt) can run
code while they are unpickled. A folder someone downloaded or was sent is data, so both are
refused unless the user says the folder is trusted (`--trust-remote-code`, `--allow-pickle`).
The check runs before anything from the folder is imported or loaded: it only reads JSON and
lists directories. No torch here.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from afroadv.errors import AfroadvError

PICKLE_SUFFIXES = frozenset({".pt", ".pth", ".pkl", ".ckpt"})
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
"""What transformers (use_safetensors=True) and sentence-transformers' own modules load instead of pickles."""

ST_PREFIX = "sentence_transformers."
_CONFIG_JSON = re.compile(r"^[\w.-]*config[\w.-]*\.json$", re.IGNORECASE)
_FIXED_CONFIGS = ("config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json")
_MAX_ROUTER_DEPTH = 4

Reader = Callable[[str], object]
"""`read(relpath)` -> parsed JSON, or None when the file is absent (may raise AfroadvError)."""
Lister = Callable[[str], "set[str] | None"]
"""`listdir(reldir)` -> names of the files in that folder, or None when it cannot be known."""


@dataclass(frozen=True)
class Verdict:
    """What the loaders must be told. `use_safetensors` is True when only safetensors may load
    (the default, and always when both kinds are present), None when pickle weights were allowed
    and are the only ones there. `dirs` are the folders whose files get loaded."""

    use_safetensors: bool | None
    dirs: tuple[str, ...]


def is_pickle_weights(name: str) -> bool:
    """Weights files stored with pickle: pytorch_model*.bin and *.pt, *.pth, *.pkl, *.ckpt.
    (training_args.bin and other .bin files are not weights; no loader reads them.)"""
    n = name.lower()
    if n.startswith("pytorch_model") and n.endswith(".bin"):
        return True
    return posixpath.splitext(n)[1] in PICKLE_SUFFIXES


def has_safe_weights(names: Iterable[str]) -> bool:
    names = set(names)
    return any(w in names for w in SAFE_WEIGHTS)


def _join(*parts: str) -> str:
    return posixpath.join(*[p for p in parts if p]) if any(parts) else ""


def _module_dir(where: str, base: str, path, label: str) -> str:
    """A module's folder inside the model folder; absolute paths and `..` would load files from
    elsewhere, outside what this check sees, so they are refused."""
    if path is None:
        path = ""
    if not isinstance(path, str):
        raise AfroadvError(f"{where}: {label} has a module path that is not a string ({path!r})")
    p = path.replace("\\", "/")
    if p.startswith("/") or re.match(r"^[A-Za-z]:", p) or ".." in p.split("/"):
        raise AfroadvError(f"{where}: {label} points outside the model folder ({path!r})")
    return _join(base, p.strip("/"))


def _custom(where: str, module: str, source: str, trusted_by: str) -> AfroadvError:
    return AfroadvError(f"{where} asks to run custom code {module!r} ({source}); pass --trust-remote-code "
                        f"only if you trust {trusted_by}")


def _auto_map_modules(auto_map) -> list[str]:
    """Module names from an `auto_map` ("modeling_x.Class", "org/repo--modeling_x.Class", or a
    [slow, fast] pair for tokenizers)."""
    out: list[str] = []
    values = auto_map.values() if isinstance(auto_map, dict) else [auto_map]
    for v in values:
        for ref in (v if isinstance(v, (list, tuple)) else [v]):
            if isinstance(ref, str) and ref:
                out.append(ref.rsplit(".", 1)[0] if "." in ref else ref)
    return out or [str(auto_map)[:80]]


def _module_dirs(where: str, read: Reader, trust_remote_code: bool, trusted_by: str) -> list[str]:
    """Folders of every sentence-transformers module (Router sub-modules included); a module type
    outside sentence_transformers.* is custom code."""
    modules = read("modules.json")
    dirs = [""]
    if modules is None:
        return dirs
    if not isinstance(modules, list):
        raise AfroadvError(f"{where}: modules.json is not a list of sentence-transformers modules")

    def visit(entries: list[tuple[str, object, str]], depth: int) -> None:
        for label, typ, d in entries:  # d: the module's folder, already checked by _module_dir
            if not (isinstance(typ, str) and typ.startswith(ST_PREFIX)) and not trust_remote_code:
                raise _custom(where, str(typ), f"module type in {label}", trusted_by)
            if d not in dirs:
                dirs.append(d)
            if isinstance(typ, str) and typ.rsplit(".", 1)[-1] == "Router" and depth < _MAX_ROUTER_DEPTH:
                cfg_name = _join(d, "router_config.json")
                cfg = read(cfg_name)
                if not isinstance(cfg, dict):
                    cfg_name = _join(d, "config.json")
                    cfg = read(cfg_name)
                types = cfg.get("types") if isinstance(cfg, dict) else None
                if isinstance(types, dict):
                    visit([(cfg_name, t, _module_dir(where, d, str(k), cfg_name)) for k, t in types.items()], depth + 1)

    top = [m if isinstance(m, dict) else {} for m in modules]
    visit([("modules.json", m.get("type"), _module_dir(where, "", m.get("path", ""), "modules.json")) for m in top], 0)
    return dirs


def check_model_files(where: str, read: Reader, listdir: Lister, *, weights_dir: str = "",
                      trust_remote_code: bool = False, allow_pickle: bool = False,
                      listing_complete: bool = True, trusted_by: str = "this folder") -> Verdict:
    """Apply the policy to one model (a local folder, or a hub repository seen through the local
    cache / the hub's file list) and say how its weights must be loaded.

    `where` names the model in messages; `weights_dir` is the transformer's folder (modules.json
    may nest it). When `listing_complete` is False (a partial hub cache), missing files are not
    known, so pickle weights are left to the loaders (they are told use_safetensors=True)."""
    dirs = _module_dirs(where, read, trust_remote_code, trusted_by)
    if weights_dir not in dirs:
        dirs.append(weights_dir)
    listings = {d: listdir(d) for d in dirs}

    if not trust_remote_code:
        for d in dirs:
            names = listings[d]
            candidates = sorted(n for n in names if _CONFIG_JSON.match(n) and not n.endswith(".index.json")) \
                if names is not None and listing_complete else list(_FIXED_CONFIGS)
            for n in candidates:
                rel = _join(d, n)
                try:
                    cfg = read(rel)
                except AfroadvError:
                    continue  # unreadable JSON names no code; the loaders fail on it with their own message
                if isinstance(cfg, dict) and cfg.get("auto_map"):
                    mods = _auto_map_modules(cfg["auto_map"])
                    raise _custom(where, mods[0], f"auto_map in {rel}", trusted_by)

    unsafe_only = False
    for d in dirs:
        names = listings[d]
        if names is None or not listing_complete:
            continue
        pickles = sorted((n for n in names if is_pickle_weights(n)),
                         key=lambda n: (not n.lower().startswith("pytorch_model"), n))
        if not pickles or has_safe_weights(names):
            continue  # nothing to refuse, or safetensors beside them (the loaders are told to take those)
        if not allow_pickle:
            raise AfroadvError(f"{where}: {_join(d, pickles[0])} holds pickle weights, which can run code when "
                               "loaded; convert them to safetensors or pass --allow-pickle if you trust "
                               f"{trusted_by}")
        if d == weights_dir:
            unsafe_only = True
    use_safetensors = None if (unsafe_only or (allow_pickle and not listing_complete)) else True
    return Verdict(use_safetensors=use_safetensors, dirs=tuple(dirs))
