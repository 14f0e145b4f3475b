"""The dataset's row schema as the TypeScript side declares it (shared/formats/row-schema.ts).

The readers never list the columns themselves: they load the JSON that
rowSchemaDescription() writes (test/support/row-schema-file.ts writes it to a
temporary file and passes it as --schema FILE; `node
build/test/support/row-schema-file.js` prints it). What is per kind of value
lives in the tables below, keyed by the names the JSON uses: a new kind of
value (a float column, say) is one entry in each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def _as_string(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    # Python's f-string renders a missing value as "None": keep the digest
    # definition exact even for (contract-breaking) nulls.
    return pc.fill_null(col, "None") if col.null_count else col


# Digest encodings (value-types.ts DigestEncoding): an Arrow column, and a
# TensorFlow tensor, as the digest's text.
ARROW_DIGEST: dict[str, Callable[[Any], Any]] = {
    "utf8": _as_string,
    "decimal": lambda col: _as_string(pc.cast(col, pa.string())),
}


# ... and one value as NumPy hands it over (bytes for a string, an integer).
VALUE_DIGEST: dict[str, Callable[[Any], bytes]] = {
    "utf8": lambda v: bytes(v),
    "decimal": lambda v: b"%d" % v,
}


def _tf_digest() -> dict[str, Callable[[Any], Any]]:
    import tensorflow as tf

    return {"utf8": lambda t: t, "decimal": tf.strings.as_string}


def _tf_dtypes() -> dict[str, Any]:
    import tensorflow as tf

    return {"string": tf.string, "int64": tf.int64, "float32": tf.float32}


@dataclass(frozen=True)
class RowSchema:
    columns: list[dict[str, Any]]
    roles: dict[str, str]
    digest_definition: str

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


def load(path: str | Path) -> RowSchema:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return RowSchema(columns=data["columns"], roles=data["roles"], digest_definition=data["digestDefinition"])
