"""The validation registry (`data/validation.json`): validations keyed by the generator that made a set,
so that `evaluate`, which generates its sets in memory and has no manifest to read, can still show them.

A validation belongs to the generator (version, language, dataset and split, recipe and parameters,
lexicon versions), not to one seed's draw: the sample was drawn under one seed, but the question —
does this recipe keep meaning on this text? — is about all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from afroadv.errors import AfroadvError
from afroadv.resources import data_dir

LABEL_PRESERVED_MIN = 0.9  # under this, a drop mixes lost robustness with changed meaning
ROW_FIELDS = ("label_preserved", "label_preserved_ci", "realistic", "realistic_ci", "n")
DESCRIPTION = (
    "Human validations of afroadv generators, written by `afroadv validate score --register`: the share of "
    "perturbed pairs that keep their gold score (label_preserved) and look like real writing (realistic), "
    "with Wilson 95% CIs. Keyed by generator_key (afroadv version, language, dataset and split, recipe and "
    "parameters, lexicon versions; not the seed). `afroadv evaluate` and `afroadv report` show them beside "
    "drops. See docs/validation.md."
)


def registry_path() -> Path:
    """`$AFROADV_VALIDATION_REGISTRY` (read on every call, so tests and installed copies can point
    elsewhere), else `validation.json` in the shipped data folder."""
    env = os.environ.get("AFROADV_VALIDATION_REGISTRY")
    return Path(env).expanduser() if env else data_dir() / "validation.json"


def generator_fields(manifest: dict) -> dict:
    """What identifies a generator, from a set manifest (or anything shaped like one)."""
    try:
        recipe, dataset = manifest["recipe"], manifest["dataset"]
        return {
            "afroadv_version": manifest["afroadv_version"],
            "lang": manifest["lang"],
            "dataset": dataset["name"],
            "split": dataset["split"],
            "recipe": recipe["name"],
            "parameters": recipe["parameters"],
            "lexicons": manifest["lexicons"],
        }
    except (KeyError, TypeError) as e:
        raise AfroadvError(f"cannot identify the generator: the manifest lacks {e}") from None


def generator_key(manifest: dict) -> str:
    """sha256 of the canonical JSON of the generator fields: the same generator gives the same key,
    whether its set was written to disk or made in memory by `evaluate`."""
    canonical = json.dumps(generator_fields(manifest), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_registry(path: Path | None = None) -> dict:
    """The registry document ({description, entries}); an absent file is an empty registry."""
    path = Path(path) if path else registry_path()
    if not path.exists():
        return {"description": DESCRIPTION, "entries": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AfroadvError(f"validation registry {path} is unreadable ({type(e).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list) or not all(
        isinstance(e, dict) and isinstance(e.get("key"), str) for e in doc["entries"]
    ):
        raise AfroadvError(f"validation registry {path} is malformed (expected {{\"entries\": [{{\"key\": ...}}, ...]}})")
    return doc


def check_registrable(manifest: dict) -> None:
    """Only a generator's own sets describe the generator: an attack set also depends on the attacked model."""
    if manifest.get("kind") != "generated-set":
        raise AfroadvError("--register needs a set written by `afroadv generate` (an attack set depends on a model, not only on a generator)")
    generator_key(manifest)


def register_validation(manifest: dict, validation: dict, path: Path | None = None) -> str:
    """Record a set's validation under its generator key (replacing an older one); returns the key.
    Entries stay sorted by key and the file byte-stable, so the registry diffs cleanly in git."""
    from afroadv.validate.sheet import write_bytes_atomic

    check_registrable(manifest)
    path = Path(path) if path else registry_path()
    doc = load_registry(path)
    key = generator_key(manifest)
    fields = generator_fields(manifest)
    entry = {"key": key, "lang": fields["lang"], "recipe": fields["recipe"], "dataset": fields["dataset"],
             "split": fields["split"], "afroadv_version": fields["afroadv_version"], "validation": validation}  # fmt: skip
    entries = sorted([e for e in doc["entries"] if e["key"] != key] + [entry], key=lambda e: e["key"])
    doc = {**doc, "description": doc.get("description") or DESCRIPTION, "entries": entries}
    write_bytes_atomic(path, (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return key


def lookup_validation(manifest: dict, path: Path | None = None) -> dict | None:
    """The registered validation of the generator described by `manifest`, or None."""
    key = generator_key(manifest)
    for entry in load_registry(path)["entries"]:
        if entry["key"] == key:
            return entry.get("validation")
    return None


def row_validation(validation: dict | None) -> dict | None:
    """The part of a validation a results row carries: the two rates with their CIs and n."""
    if not isinstance(validation, dict):
        return None
    return {k: validation.get(k) for k in ROW_FIELDS}


def _rate(v, where: str, key: str) -> float | None:
    if v is None:
        return None
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not (0 <= v <= 1):
        raise AfroadvError(f"{where}.{key} must be a rate between 0 and 1, or null")
    return float(v)


def check_row_validation(v, where: str) -> dict | None:
    """A results row's `validation`, checked: None, or the ROW_FIELDS with rates in [0, 1] and CIs [lo, hi]."""
    if v is None:
        return None
    if not isinstance(v, dict):
        raise AfroadvError(f"{where}.validation must be an object or null")
    out = {}
    for key in ("label_preserved", "realistic"):
        out[key] = _rate(v.get(key), where, f"validation.{key}")
        ci = v.get(f"{key}_ci")
        if ci is not None and not (isinstance(ci, (list, tuple)) and len(ci) == 2):
            raise AfroadvError(f"{where}.validation.{key}_ci must be [lo, hi] or null")
        bounds = () if ci is None else tuple(_rate(x, where, f"validation.{key}_ci") for x in ci)
        out[f"{key}_ci"] = bounds if len(bounds) == 2 and None not in bounds else None
    n = v.get("n")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise AfroadvError(f"{where}.validation.n must be a non-negative integer")
    out["n"] = n
    return out


def untrustworthy(validation: dict | None) -> bool:
    """True when reviewers found the generator changes meaning too often for its drop to measure robustness."""
    lp = (validation or {}).get("label_preserved")
    return lp is not None and lp < LABEL_PRESERVED_MIN
