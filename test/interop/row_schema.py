"""The dataset's row schema as the TypeScript side declares it (shared/formats/row-schema.ts).

The readers never list the columns themselves: they load the JSON that
rowSchemaDescription() writes, by default the file the Python client ships
(clients/python/src/exploration_data/row_schema.json, which `npm run build`
writes and a unit test holds to the code), or --schema FILE (a test's own
declaration, test/support/row-schema-file.ts). It declares every column a
dataset can have; a dataset has those whose `presentWhen` its config has
(for_config), which is also what a file's own columns say (for_names).

What is per kind of value lives in the tables below, keyed by the names the
JSON uses: a new kind of value is one entry in each.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SHIPPED = (
    Path(__file__).resolve().parents[2] / "clients" / "python" / "src" / "exploration_data" / "row_schema.json"
)


def _as_string(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    # Python's f-string renders a missing value as "None": keep the digest
    # definition exact even for (contract-breaking) nulls.
    return pc.fill_null(col, "None") if col.null_count else col


def _float32_bits(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The value rounded to float32, its 4 bytes as a little-endian int32, as text."""
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    floats = pc.cast(col, pa.float32(), safe=False)
    chunks = floats.chunks if isinstance(floats, pa.ChunkedArray) else [floats]
    bits = pa.chunked_array([c.view(pa.int32()) for c in chunks], type=pa.int32())
    return pc.cast(bits, pa.string())


# Digest encodings (value-types.ts DigestEncoding): an Arrow column, and a
# TensorFlow tensor, as the digest's text.
ARROW_DIGEST: dict[str, Callable[[Any], Any]] = {
    "utf8": _as_string,
    "decimal": lambda col: _as_string(pc.cast(col, pa.string())),
    "float32-bits": _float32_bits,
}


# ... and one value as NumPy hands it over (bytes for a string, an integer, a float).
VALUE_DIGEST: dict[str, Callable[[Any], bytes]] = {
    "utf8": lambda v: bytes(v),
    "decimal": lambda v: b"%d" % v,
    "float32-bits": lambda v: b"%d" % np.float32(v).view(np.int32),
}


def _tf_digest() -> dict[str, Callable[[Any], Any]]:
    import tensorflow as tf

    return {
        "utf8": lambda t: t,
        "decimal": tf.strings.as_string,
        # bitcast, not arithmetic: TensorFlow flushes subnormal floats to zero
        "float32-bits": lambda t: tf.strings.as_string(tf.bitcast(tf.cast(t, tf.float32), tf.int32)),
    }


def _tf_dtypes() -> dict[str, Any]:
    import tensorflow as tf

    return {"string": tf.string, "int64": tf.int64, "float32": tf.float32}


def config_has(config: Mapping[str, Any], path: str) -> bool:
    """Whether the dotted path is in config with a value that is not null (row-schema.ts configHas)."""
    value: Any = config
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return False
        value = value.get(key)
    return value is not None


@dataclass(frozen=True)
class RowSchema:
    """One dataset's columns (`columns`), out of every declared one (`declared`)."""

    columns: list[dict[str, Any]]
    roles: dict[str, str]
    digest_definition: str
    declared: list[dict[str, Any]]

    @property
    def names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    @property
    def target(self) -> str:
        return self.roles["target"]

    @property
    def creative(self) -> str:
        return self.roles["creative"]

    @property
    def label(self) -> str:
        return self.roles["label"]

    def _with(self, columns: list[dict[str, Any]]) -> RowSchema:
        return RowSchema(columns, self.roles, self.digest_definition, self.declared)

    def for_config(self, config: Mapping[str, Any]) -> RowSchema:
        """The columns of a dataset with this config (metadata "config")."""
        return self._with(
            [c for c in self.declared if c["presentWhen"] is None or config_has(config, c["presentWhen"])]
        )

    def for_names(self, names: Sequence[str]) -> RowSchema:
        """The columns a file holds, by its own column names; ValueError if they are no dataset's."""
        columns = [c for c in self.declared if c["name"] in names]
        if [c["name"] for c in columns] != list(names) or any(
            c["presentWhen"] is None and c["name"] not in names for c in self.declared
        ):
            raise ValueError(
                f"columns {list(names)} are not a dataset's columns of the row schema "
                f"(declared, in order: {[c['name'] for c in self.declared]})"
            )
        return self._with(columns)

    def feature_spec(self) -> dict[str, Any]:
        """The notebook's tf.io feature spec: one FixedLenFeature([]) per column."""
        import tensorflow as tf

        dtypes = _tf_dtypes()
        return {c["name"]: tf.io.FixedLenFeature([], dtypes[c["tf"]["dtype"]]) for c in self.columns}

    def arrow_digest_columns(self, table: pa.Table) -> list[Any]:
        """Each column of `table` as its digest text, in column order."""
        return [ARROW_DIGEST[c["digest"]](table.column(c["name"])) for c in self.columns]

    def tf_digest_lines(self, batch: dict[str, Any]) -> Any:
        """A parsed batch's digest lines (without the newline), one per row."""
        import tensorflow as tf

        encode = _tf_digest()
        return tf.strings.join([encode[c["digest"]](batch[c["name"]]) for c in self.columns], separator="\t")

    def value_lines(self, batch: dict[str, Any]) -> list[bytes]:
        """A batch of NumPy values' digest lines (with the newline), one per row."""
        texts = [[VALUE_DIGEST[c["digest"]](v) for v in batch[c["name"]]] for c in self.columns]
        return [b"\t".join(values) + b"\n" for values in zip(*texts, strict=True)]


def load(path: str | Path | None = None) -> RowSchema:
    """The schema in `path` (default: the shipped row_schema.json), with the columns of a dataset without a policy."""
    data = json.loads(Path(path or SHIPPED).read_text(encoding="utf-8"))
    unknown = {c["digest"] for c in data["columns"]} - set(ARROW_DIGEST)
    if unknown:
        raise ValueError(f"row schema uses digest encodings row_schema.py does not know: {sorted(unknown)}")
    schema = RowSchema(
        columns=[],
        roles=data["roles"],
        digest_definition=data["digestDefinition"],
        declared=data["columns"],
    )
    return schema.for_config({})
