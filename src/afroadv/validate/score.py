"""Scoring filled review sheets: how often a generator keeps the gold score and writes realistic text
(rates with Wilson 95% CIs), how far reviewers agree (Cohen's / Fleiss' kappa), written into the set's
manifest so the numbers travel with the set."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from afroadv.data.writers import manifest_path
from afroadv.errors import AfroadvError
from afroadv.resources import sha256_file
from afroadv.validate.registry import LABEL_PRESERVED_MIN, check_registrable, load_registry, register_validation, untrustworthy
from afroadv.validate.sheet import JUDGMENTS, Judgment, LoadedSet, read_manifest, read_set, read_sheet, write_bytes_atomic
from afroadv.validate.stats import cohen_kappa, fleiss_kappa, wilson


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _rate(counts: Counter) -> tuple[float | None, list[float] | None]:
    yes, n = counts["yes"], counts["yes"] + counts["no"]
    ci = wilson(yes, n)
    return _r(yes / n) if n else None, [_r(ci[0]), _r(ci[1])] if ci else None


def agreement(judgments: list[Judgment]) -> dict | None:
    """Chance-corrected agreement per judgment over the records every reviewer answered yes or no:
    Cohen's kappa for two reviewers, Fleiss' for three or more; None with fewer than two reviewers or
    no such record. `raw_agreement` is the share of those records where all answers are the same; a
    kappa that is undefined (everyone always said yes) is None beside it."""
    reviewers = sorted({j.reviewer for j in judgments})
    if len(reviewers) < 2:
        return None
    method = "cohen" if len(reviewers) == 2 else "fleiss"
    out: dict = {"method": method, "reviewers": len(reviewers)}
    for column in JUDGMENTS:
        answers: dict[str, dict[str, str]] = {}
        for j in judgments:
            value = getattr(j, column)
            if value in ("yes", "no"):
                answers.setdefault(j.id, {})[j.reviewer] = value
        common = [answers[i] for i in sorted(answers) if len(answers[i]) == len(reviewers)]
        if method == "cohen":
            kappa = cohen_kappa([a[reviewers[0]] for a in common], [a[reviewers[1]] for a in common])
        else:
            kappa = fleiss_kappa([[sum(v == c for v in a.values()) for c in ("yes", "no")] for a in common])
        same = sum(len(set(a.values())) == 1 for a in common)
        out[column] = {"kappa": _r(kappa), "n_common": len(common), "raw_agreement": _r(same / len(common)) if common else None}
    if not any(out[c]["n_common"] for c in JUDGMENTS):
        return None
    return out


def summarize(judgments: list[Judgment]) -> dict:
    """The `validation` of one set from its judgments: every reviewer's yes/no counts toward the rates."""
    judged = [j for j in judgments if any(getattr(j, c) for c in JUDGMENTS)]
    counts = {c: Counter(getattr(j, c) for j in judged) for c in JUDGMENTS}
    lp, lp_ci = _rate(counts["label_preserved"])
    real, real_ci = _rate(counts["realistic"])
    sheets = sorted({(j.sheet.name, sha256_file(j.sheet)) for j in judgments})
    return {
        "n": counts["label_preserved"]["yes"] + counts["label_preserved"]["no"],
        "n_realistic": counts["realistic"]["yes"] + counts["realistic"]["no"],
        "n_records": len({j.id for j in judged}),
        "label_preserved": lp,
        "label_preserved_ci": lp_ci,
        "realistic": real,
        "realistic_ci": real_ci,
        "unsure": {c: counts[c]["unsure"] for c in JUDGMENTS},
        "reviewers": sorted({j.reviewer for j in judged}),
        "agreement": agreement(judged),
        "sheets": [{"file": name, "sha256": digest} for name, digest in sheets],
    }


def _read_judgments(sheets: list[Path]) -> list[Judgment]:
    judgments, seen = [], {}
    for path in sheets:
        for j in read_sheet(path):
            if (j.reviewer, j.id) in seen:
                raise AfroadvError(f"{path}: reviewer {j.reviewer} judged {j.id} twice (also in {seen[j.reviewer, j.id]}); "
                                   "give each reviewer's sheet its own file name or a reviewer column")  # fmt: skip
            seen[j.reviewer, j.id] = path
            judgments.append(j)
    return judgments


def score_sheets(sheets: list[Path], sets: list[Path]) -> dict[Path, dict]:
    """{set path: validation} for every set, from reviewers' filled sheets; nothing is written.
    Every sheet id must be a record of one of the sets, and every set needs at least one judgment."""
    if not sheets:
        raise AfroadvError("no review sheet given")
    if not sets:
        raise AfroadvError("give the set the sheets were sampled from: --set SET.jsonl")
    loaded: list[LoadedSet] = [read_set(p) for p in sets]
    owner: dict[str, Path] = {}
    for s in loaded:
        if s.manifest is None:
            raise AfroadvError(f"{s.path}: no {manifest_path(s.path).name} beside it, so not a set written by afroadv generate")
        owner.update((str(r["id"]), s.path) for r in s.records)
    by_set: dict[Path, list[Judgment]] = {s.path: [] for s in loaded}
    for j in _read_judgments([Path(p) for p in sheets]):
        if j.id not in owner:
            raise AfroadvError(f"{j.sheet}: row {j.id} is not a record of {', '.join(str(s.path) for s in loaded)}")
        by_set[owner[j.id]].append(j)
    out = {}
    for path, judgments in by_set.items():
        if not any(getattr(j, c) for j in judgments for c in JUDGMENTS):
            raise AfroadvError(f"no judgments for {path} in {', '.join(map(str, sheets))}: fill label_preserved / realistic with yes, no or unsure")
        out[path] = summarize(judgments)
    return out


def record_validation(set_path: Path, validation: dict) -> Path:
    """Write `validation` into the set's manifest (atomically), keeping every other field as it was."""
    path = manifest_path(set_path)
    manifest = read_set_manifest(set_path)
    manifest["validation"] = validation
    write_bytes_atomic(path, (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return path


def save_validations(results: dict[Path, dict], register: bool = False, registry: Path | None = None) -> list[tuple[Path, Path, str | None]]:
    """Write each validation into its set's manifest and, with `register`, into the registry; everything is
    checked first, so an attack set or a broken registry leaves every file as it was.
    Returns (set, manifest written, generator key or None) per set."""
    manifests = {path: read_set_manifest(path) for path in results}
    if register:
        for manifest in manifests.values():
            check_registrable(manifest)
        load_registry(registry)
    saved = []
    for path, validation in results.items():
        written = record_validation(path, validation)
        saved.append((path, written, register_validation(manifests[path], validation, registry) if register else None))
    return saved


def read_set_manifest(set_path: Path) -> dict:
    manifest = read_manifest(set_path)
    if manifest is None:
        raise AfroadvError(f"{set_path}: no {manifest_path(set_path).name} beside it")
    return manifest


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _rate_text(rate, ci, n) -> str:
    return f"{_pct(rate)} [{_pct(ci[0])}, {_pct(ci[1])}] (n={n})" if ci else f"{_pct(rate)} (n={n})"


def format_validation(name: str, v: dict) -> str:
    """A few lines for the terminal: rates with CIs, unsure counts, reviewers and their agreement."""
    lines = [
        f"{name}: label preserved {_rate_text(v['label_preserved'], v['label_preserved_ci'], v['n'])}, "
        f"realistic {_rate_text(v['realistic'], v['realistic_ci'], v['n_realistic'])}; "
        f"{v['n_records']} records, unsure {v['unsure']['label_preserved']} / {v['unsure']['realistic']}",
        f"  reviewers: {', '.join(v['reviewers'])}",
    ]
    a = v["agreement"]
    if a:
        name_k = "Cohen's" if a["method"] == "cohen" else "Fleiss'"
        parts = []
        for c in JUDGMENTS:
            e = a[c]
            kappa = "undefined" if e["kappa"] is None else f"{e['kappa']:.2f}"
            parts.append(f"{c.replace('_', ' ')} {kappa} (raw agreement {_pct(e['raw_agreement'])} on {e['n_common']} records)")
        lines.append(f"  {name_k} kappa: " + "; ".join(parts))
    elif len(v["reviewers"]) > 1:
        lines.append("  agreement: no record was judged by every reviewer")
    if untrustworthy(v):
        lines.append(f"  warning: label preserved under {100 * LABEL_PRESERVED_MIN:.0f}%: drops on this generator's sets are not trustworthy")
    return "\n".join(lines)
