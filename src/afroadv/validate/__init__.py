"""Human validation of generated sets: do perturbed pairs still deserve their gold score ("label
preserved") and look like what real writers type ("realistic")?

Two jobs, two halves: review material (`sheet`: a stratified sample of changed pairs as CSV; `page`:
the same as one offline HTML page) and the numbers (`score`: rates with Wilson CIs and reviewer
agreement written into the set's manifest; `registry`: validations keyed by generator, for
`evaluate`'s in-memory sets). Pure Python: importing this stays light (no numpy, no torch).
"""

from afroadv.validate.page import review_page, write_review_page
from afroadv.validate.registry import (
    LABEL_PRESERVED_MIN,
    check_row_validation,
    generator_key,
    load_registry,
    lookup_validation,
    register_validation,
    registry_path,
    row_validation,
    untrustworthy,
)
from afroadv.validate.score import agreement, format_validation, record_validation, save_validations, score_sheets, summarize
from afroadv.validate.sheet import SHEET_COLUMNS, read_set, read_sheet, sample_sheet, sheet_csv, write_sheet
from afroadv.validate.stats import cohen_kappa, fleiss_kappa, wilson

__all__ = [
    "LABEL_PRESERVED_MIN", "SHEET_COLUMNS", "agreement", "check_row_validation", "cohen_kappa", "fleiss_kappa",
    "format_validation", "generator_key", "load_registry", "lookup_validation", "read_set", "read_sheet",
    "record_validation", "register_validation", "registry_path", "review_page", "row_validation", "sample_sheet", "save_validations",
    "score_sheets", "sheet_csv", "summarize", "untrustworthy", "wilson", "write_review_page", "write_sheet",
]  # fmt: skip
