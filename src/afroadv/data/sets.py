"""Set files (what `generate` and `attack` write): reading them back, and the column types every
typed format (Parquet, Hugging Face datasets, MTEB) gives them.

Why fixed types: a bitext set has no gold scores, so a type inferred from its values makes `score`
a null column, and `datasets.concatenate_datasets` then refuses it next to an STS set. Declaring
`score` float64 everywhere (nulls allowed) lets the two concatenate as they are. JSONL cannot carry
types; readers of a JSONL set (and `afroadv export`) apply them.
"""

from __future__ import annotations

import json
from pathlib import Path

from afroadv.errors import AfroadvError

# Arrow / datasets type names; a column not listed keeps the type its values give it.
COLUMN_TYPES = {
    "id": "string", "source_id": "string", "lang": "string", "task": "string", "recipe": "string",
    "sentence1": "string", "sentence2": "string", "score": "float64",
    "orig_sentence1": "string", "orig_sentence2": "string", "changed": "bool", "edit_rate": "float64",
    "seed": "int64", "n_words": "int64", "n_eligible": "int64", "n_changed": "int64",
}  # fmt: skip


def arrow_table(records: list[dict], columns: list[str]):
    """The records as a pyarrow Table in `columns` order, typed by COLUMN_TYPES."""
    import pyarrow as pa

    arrays = []
    for c in columns:
        values = [r.get(c) for r in records]
        typ = COLUMN_TYPES.get(c)
        arrays.append(pa.array(values, type=pa.type_for_alias(typ) if typ else None))
    return pa.Table.from_arrays(arrays, names=list(columns))


def to_hf_dataset(records: list[dict], columns: list[str]):
    """A `datasets.Dataset` with the same types as `arrow_table` (score float64 even when all null)."""
    from datasets import Dataset, Features

    table = arrow_table(records, columns)
    return Dataset.from_dict(table.to_pydict(), features=Features.from_arrow_schema(table.schema))


def read_set_records(path: Path) -> list[dict]:
    """The records of a set file (JSONL or Parquet); one-line errors for a missing, empty or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise AfroadvError(f"set file not found: {path}")
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            records = pq.read_table(path).to_pylist()
        except (OSError, pa.ArrowException) as e:
            raise AfroadvError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    else:
        records = []
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise AfroadvError(f"{path}: not UTF-8 text (an afroadv set is .jsonl or .parquet)") from None
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise AfroadvError(f"{path}:{i}: malformed JSON ({e.msg})") from None
                if not isinstance(records[-1], dict):
                    raise AfroadvError(f"{path}:{i}: not a JSON object")
    if not records:
        raise AfroadvError(f"{path}: empty set")
    return records
