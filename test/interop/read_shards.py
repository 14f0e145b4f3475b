#!/usr/bin/env python3
"""Read a sharded dataset version the way a user would, and print one JSON summary.

    read_shards.py DIR VERSION [--schema FILE] [--gzip]

The shard list comes from DIR/metadata_v{VERSION}.json (objects.<format>.shards,
in order); it is also checked against a sorted glob, which is how users find
shards. Reads the Parquet shards with pandas.read_parquet(list), with
pyarrow.dataset.dataset(list) and, when the venv has it, DuckDB's
read_parquet([...]); the TFRecord shards with tf.data.TFRecordDataset(files)
(sequentially, for the row digest, and with num_parallel_reads=4 as a training
pipeline would). Columns, feature spec and row digest come from the row
schema (row_schema.py: the shipped JSON or FILE) and the metadata's config;
the digests are read_dataset.py's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

sys.path.insert(0, str(Path(__file__).resolve().parent))
import row_schema  # noqa: E402
from read_dataset import arrow_digest  # noqa: E402
from row_schema import RowSchema  # noqa: E402


def shard_paths(directory: Path, metadata: dict[str, Any], fmt: str) -> list[Path] | None:
    obj = (metadata.get("objects") or {}).get(fmt)
    if not obj:
        return None
    return [directory / Path(s["name"]).name for s in obj["shards"]]


def read_parquet_shards(paths: list[Path], directory: Path, version: int, schema: RowSchema) -> dict[str, Any]:
    files = [str(p) for p in paths]
    glob = sorted(str(p) for p in directory.glob(f"dataset_v{version}-*-of-*.parquet"))
    frame = pd.read_parquet(files, engine="pyarrow")
    dataset_table = pads.dataset(files, format="parquet").to_table()
    out: dict[str, Any] = {
        "files": len(files),
        "globMatchesMetadata": glob == files,
        "pandasRows": len(frame),
        "pandasDtypes": {k: str(v) for k, v in frame.dtypes.items()},
        "pandasDigest": arrow_digest(pa.Table.from_pandas(frame[schema.names], preserve_index=False), schema),
        "datasetRows": dataset_table.num_rows,
        "datasetDigest": arrow_digest(dataset_table, schema),
        "shardDigests": [arrow_digest(pads.dataset(f, format="parquet").to_table(), schema) for f in files],
        "duckdb": None,
    }
    try:
        import duckdb  # optional in the venv
    except ImportError:
        return out
    con = duckdb.connect()
    relation = con.sql("SELECT * FROM read_parquet($files)", params={"files": files})
    # DuckDB 2 names it to_arrow_table; 1.x fetch_arrow_table / arrow
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        if hasattr(relation, name):
            table = getattr(relation, name)()
            break
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    out["duckdb"] = {"rows": table.num_rows, "digest": arrow_digest(table, schema)}
    return out


def read_tfrecord_shards(paths: list[Path], gzip: bool, schema: RowSchema) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    spec = schema.feature_spec()
    files = [str(p) for p in paths]
    compression = "GZIP" if gzip else ""

    def summarize(ds: tf.data.Dataset) -> tuple[int, int, str]:
        h = hashlib.sha256()
        rows = positives = 0
        for batch in ds.batch(65536).map(lambda s: tf.io.parse_example(s, spec)):
            lines = schema.tf_digest_lines(batch)
            h.update((tf.strings.reduce_join(lines, separator="\n") + "\n").numpy())
            rows += int(tf.size(batch[schema.label]))
            positives += int(tf.reduce_sum(batch[schema.label]))
        return rows, positives, h.hexdigest()

    rows, positives, digest = summarize(tf.data.TFRecordDataset(files, compression_type=compression))
    parallel_rows, parallel_positives, _ = summarize(
        tf.data.TFRecordDataset(files, compression_type=compression, num_parallel_reads=4)
    )
    return {
        "files": len(files),
        "compression": compression or "NONE",
        "rows": rows,
        "positives": positives,
        "digest": digest,
        "parallelRows": parallel_rows,
        "parallelPositives": parallel_positives,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("version", type=int)
    ap.add_argument("--schema", type=Path, help="the row schema's JSON (default: the one the Python client ships)")
    ap.add_argument("--gzip", action="store_true")
    args = ap.parse_args()
    metadata = json.loads((args.dir / f"metadata_v{args.version}.json").read_text(encoding="utf-8"))
    schema = row_schema.load(args.schema).for_config(metadata.get("config") or {})
    parquet = shard_paths(args.dir, metadata, "parquet")
    tfrecord = shard_paths(args.dir, metadata, "tfrecord")
    result = {
        "parquet": read_parquet_shards(parquet, args.dir, args.version, schema) if parquet else None,
        "tfrecord": read_tfrecord_shards(tfrecord, args.gzip, schema) if tfrecord else None,
    }
    json.dump(result, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
