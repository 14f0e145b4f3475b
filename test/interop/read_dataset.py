#!/usr/bin/env python3
"""Read one dataset version the way a user would, and print one JSON summary.

    read_dataset.py DIR VERSION --schema FILE [--gzip] [--no-per-creative]

Reads DIR/dataset_v{VERSION}.parquet with pandas (pyarrow engine) and with
pyarrow, DIR/dataset_v{VERSION}.tfrecord (.tfrecord.gz with --gzip) with
tf.data.TFRecordDataset + tf.io.parse_single_example and the notebook's feature
spec, and DIR/metadata_v{VERSION}.json. A missing file is reported as null.
The columns, their types and the digest come from the row schema FILE (the
JSON of shared/formats/row-schema.ts, see row_schema.py), not from a list here.

For each data format it reports the row count, column names, types, positives,
distinct ids and a canonical row digest: the sha256 hex of the UTF-8 bytes of
one line per row, in order, every column's text joined by tabs (the schema's
digestDefinition; the TypeScript side computes the same). With the metadata it
checks every creative's observed label rate against its true probability q
(bound stated in the output).

Exit status: 0 when the files were read (the checks are data, not the status),
1 with a one-line message on stderr when a file cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import row_schema
from row_schema import RowSchema, _as_string

TF_BATCH = 65536
SINGLE_CHECK = 4096  # records also parsed one by one with parse_single_example
# The same bound as shared/verify/statistics/bernstein.ts: Bernstein's inequality at probability
# alpha/k for each of k creatives (Bonferroni), so a correct dataset fails it
# anywhere with probability at most alpha.
FAMILY_WISE_ALPHA = 1e-6
BOUND_TEXT = (
    "|observed - q| <= (L/3 + sqrt(L^2/9 + 2 n q(1-q) L)) / n, "
    "L = ln(2k/alpha), k creatives, alpha = 1e-6 (Bernstein, Bonferroni)"
)


class ReadError(Exception):
    """A file exists but cannot be read as the contract says."""


# ---------------------------------------------------------------- digest ----


def _string_data(arr: pa.Array) -> memoryview:
    """The contiguous UTF-8 bytes of all values of a null-free (large_)string array."""
    offsets_buf, data_buf = arr.buffers()[1], arr.buffers()[2]
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    if data_buf is None or len(arr) == 0:
        return memoryview(b"")
    return memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])]


def arrow_digest(table: pa.Table, schema: RowSchema) -> str:
    """The row digest: sha256 over every row's line (columns' digest text joined by tabs, then a newline)."""
    h = hashlib.sha256()
    texts = schema.arrow_digest_columns(table)
    small = pa.table({str(i): text for i, text in enumerate(texts)})
    for batch in small.to_batches(max_chunksize=1 << 20):
        lines = pc.binary_join_element_wise(*batch.columns, "\t")
        lines = pc.binary_join_element_wise(lines, "", "\n")  # append "\n"
        h.update(_string_data(lines))
    return h.hexdigest()


# ---------------------------------------------------------------- parquet ---


def pairs_from_arrow(table: pa.Table, schema: RowSchema) -> pd.DataFrame:
    """Rows and positives per (creative, target) pair."""
    small = pa.table(
        {
            "creative": _as_string(table.column(schema.creative)),
            "target": _as_string(table.column(schema.target)),
            "label": table.column(schema.label),
        }
    )
    agg = small.group_by(["creative", "target"], use_threads=False).aggregate(
        [("label", "count"), ("label", "sum")]
    )
    df = agg.to_pandas()
    return df.rename(columns={"label_count": "n", "label_sum": "positives"})[
        ["creative", "target", "n", "positives"]
    ]


def read_parquet(path: Path, schema: RowSchema) -> tuple[dict[str, Any], pd.DataFrame]:
    started = time.perf_counter()
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
        table = pq.read_table(path)
        meta = pq.ParquetFile(path).metadata
    except Exception as e:  # noqa: BLE001 - any reader failure is a read failure
        raise ReadError(f"parquet {path}: {e}") from e
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise ReadError(f"parquet {path}: missing columns {missing}")

    pairs = pairs_from_arrow(table, schema)
    digest = arrow_digest(table, schema)
    pandas_digest = arrow_digest(pa.Table.from_pandas(frame[schema.names], preserve_index=False), schema)
    out = {
        "path": str(path.resolve()),
        "bytes": path.stat().st_size,
        "rows": table.num_rows,
        "columns": table.column_names,
        "pandasDtypes": {k: str(v) for k, v in frame.dtypes.items()},
        "arrowTypes": {f.name: str(f.type) for f in table.schema},
        "parquetPhysicalTypes": {
            meta.schema.column(i).name: meta.schema.column(i).physical_type
            for i in range(meta.num_columns)
        },
        "rowGroups": meta.num_row_groups,
        "nullCounts": {c: table.column(c).null_count for c in table.column_names},
        "positives": int(pc.sum(table.column(schema.label)).as_py() or 0),
        "distinctTargetStoreIds": int(pairs["target"].nunique()),
        "distinctCreativePackIds": int(pairs["creative"].nunique()),
        "digest": digest,
        "pandasRows": len(frame),
        "pandasDigest": pandas_digest,
        "pandasMatchesPyarrow": pandas_digest == digest and len(frame) == table.num_rows,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return out, pairs


# --------------------------------------------------------------- tfrecord ---


def read_tfrecord(path: Path, gzip: bool, schema: RowSchema) -> tuple[dict[str, Any], pd.DataFrame]:
    started = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # imported only when needed: it takes seconds

    compression = "GZIP" if gzip else ""
    feature_spec = schema.feature_spec()

    single_checked = 0

    def parse(record: tf.Tensor) -> dict[str, tf.Tensor]:
        return tf.io.parse_single_example(record, feature_spec)

    def summarize(batch: dict[str, tf.Tensor]) -> tuple[tf.Tensor, ...]:
        t, c, l = batch[schema.target], batch[schema.creative], batch[schema.label]
        lines = schema.tf_digest_lines(batch)
        blob = tf.strings.reduce_join(lines, separator="\n") + "\n"
        keys, idx = tf.unique(tf.strings.join([c, t], separator="\t"))
        k = tf.size(keys)
        n = tf.math.unsorted_segment_sum(tf.ones_like(l), idx, k)
        pos = tf.math.unsorted_segment_sum(l, idx, k)
        return blob, keys, n, pos

    h = hashlib.sha256()
    pair_n: dict[bytes, int] = {}
    pair_pos: dict[bytes, int] = {}
    rows = 0
    positives = 0
    feature_kinds: dict[str, str] = {}
    try:
        raw = tf.data.TFRecordDataset(str(path), compression_type=compression, buffer_size=8 << 20)
        for first in raw.take(1):
            example = tf.train.Example.FromString(first.numpy())
            feature_kinds = {
                k: example.features.feature[k].WhichOneof("kind")
                for k in sorted(example.features.feature.keys())
            }
        # The notebook's per-record parse_single_example, on the first records:
        # it must give exactly what the vectorised parse_example gives below.
        single = next(iter(raw.take(SINGLE_CHECK).map(parse).batch(SINGLE_CHECK)), None)
        # Bulk: batch first, then parse_example with the same spec (a per-record
        # map costs ~60 us per record in tf.data; this is ~10x faster).
        ds = raw.batch(TF_BATCH).map(lambda s: tf.io.parse_example(s, feature_spec))
        if single is not None:
            head = next(iter(ds.take(1)))
            for k in feature_spec:
                n_single = int(tf.size(single[k]))
                if not bool(tf.reduce_all(single[k] == head[k][:n_single])):
                    raise ReadError(f"tfrecord {path}: parse_single_example and parse_example disagree on {k}")
            single_checked = int(tf.size(single[schema.label]))
        for blob, keys, n, pos in ds.map(summarize).prefetch(2):
            h.update(blob.numpy())
            n_np, pos_np = n.numpy(), pos.numpy()
            rows += int(n_np.sum())
            positives += int(pos_np.sum())
            for key, cnt, p in zip(keys.numpy().tolist(), n_np.tolist(), pos_np.tolist()):
                pair_n[key] = pair_n.get(key, 0) + cnt
                pair_pos[key] = pair_pos.get(key, 0) + p
    except ReadError:
        raise
    except Exception as e:  # noqa: BLE001 - tf raises many error types
        text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(e)).strip()
        msg = text.splitlines()[0] if text else type(e).__name__
        raise ReadError(f"tfrecord {path}: {type(e).__name__}: {msg}") from e

    split = [k.decode("utf-8").split("\t", 1) for k in pair_n]
    pairs = pd.DataFrame(
        {
            "creative": [s[0] for s in split],
            "target": [s[1] for s in split],
            "n": np.fromiter(pair_n.values(), dtype=np.int64, count=len(pair_n)),
            "positives": np.fromiter(pair_pos.values(), dtype=np.int64, count=len(pair_pos)),
        }
    )
    out = {
        "path": str(path.resolve()),
        "bytes": path.stat().st_size,
        "compression": compression or "NONE",
        "rows": rows,
        "columns": list(feature_spec),
        "featureKinds": feature_kinds,
        "tfTypes": {k: v.dtype.name for k, v in feature_spec.items()},
        "parseSingleExampleChecked": single_checked,
        "positives": positives,
        "distinctTargetStoreIds": int(pairs["target"].nunique()),
        "distinctCreativePackIds": int(pairs["creative"].nunique()),
        "digest": h.hexdigest(),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return out, pairs


# ---------------------------------------------------------- creative check ---


def creative_check(pairs: pd.DataFrame, metadata: dict[str, Any], source: str, per_creative: bool) -> dict[str, Any]:
    """Observed label rate of every creative in metadata["pair_probs"] against its q."""
    q = pd.Series(metadata.get("pair_probs") or {}, dtype="float64", name="q")
    by_creative = pairs.groupby("creative")[["n", "positives"]].sum()
    df = pd.DataFrame({"q": q}).join(by_creative, how="left").fillna({"n": 0, "positives": 0})
    n = df["n"].to_numpy(dtype=np.float64)
    qv = df["q"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(n > 0, df["positives"].to_numpy() / n, np.nan)
        log = math.log(2.0 * max(len(qv), 1) / FAMILY_WISE_ALPHA)
        bound = (log / 3.0 + np.sqrt(log * log / 9.0 + 2.0 * n * qv * (1.0 - qv) * log)) / n
    within = np.where(n > 0, np.abs(observed - qv) <= bound, True)

    mapping: dict[str, str] = metadata.get("creative_pack_target") or {}
    expected_target = pairs["creative"].map(mapping)
    mismatch = expected_target.notna() & (expected_target != pairs["target"])
    unknown = ~pairs["creative"].isin(q.index)

    result: dict[str, Any] = {
        "source": source,
        "bound": BOUND_TEXT,
        "creatives": len(df),
        "creativesWithRows": int((n > 0).sum()),
        "creativesOutsideBound": int((~within).sum()),
        "allWithinBound": bool(within.all()) if len(df) else None,
        "maxAbsDeviation": float(np.nanmax(np.abs(observed - qv))) if (n > 0).any() else None,
        "unknownCreativeRows": int(pairs.loc[unknown, "n"].sum()),
        "targetMismatchRows": int(pairs.loc[mismatch, "n"].sum()) if mapping else None,
    }
    if per_creative:
        result["perCreative"] = {
            c: {
                "n": int(ni),
                "observed": None if math.isnan(o) else float(o),
                "q": float(qi),
                "withinBound": bool(w),
            }
            for c, ni, o, qi, w in zip(df.index, n, observed, qv, within)
        }
    return result


# ------------------------------------------------------------------- main ---


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path, help="directory holding dataset_v{VERSION}.* and metadata_v{VERSION}.json")
    ap.add_argument("version", type=int, help="dataset version N")
    ap.add_argument("--schema", type=Path, required=True, help="the row schema's JSON (shared/formats/row-schema.ts rowSchemaDescription)")
    ap.add_argument("--gzip", action="store_true", help="read dataset_vN.tfrecord.gz with compression_type=GZIP")
    ap.add_argument("--no-per-creative", action="store_true", help="omit the per-creative table (large with many creatives)")
    args = ap.parse_args(argv)

    v = args.version
    schema = row_schema.load(args.schema)
    parquet_path = args.dir / f"dataset_v{v}.parquet"
    tfrecord_path = args.dir / (f"dataset_v{v}.tfrecord.gz" if args.gzip else f"dataset_v{v}.tfrecord")
    metadata_path = args.dir / f"metadata_v{v}.json"
    try:
        if not parquet_path.exists() and not tfrecord_path.exists():
            raise ReadError(f"neither {parquet_path.name} nor {tfrecord_path.name} in {args.dir}")
        metadata = None
        if metadata_path.exists():
            try:
                metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise ReadError(f"metadata {metadata_path}: {e}") from e
            if not isinstance(metadata, dict):
                raise ReadError(f"metadata {metadata_path}: not a JSON object")
        parquet, pq_pairs = read_parquet(parquet_path, schema) if parquet_path.exists() else (None, None)
        tfrecord, tf_pairs = (
            read_tfrecord(tfrecord_path, args.gzip, schema) if tfrecord_path.exists() else (None, None)
        )
    except ReadError as e:
        print(f"read_dataset: {e}".splitlines()[0], file=sys.stderr)
        return 1

    pairs, source = (pq_pairs, "parquet") if pq_pairs is not None else (tf_pairs, "tfrecord")
    check = None
    if metadata is not None and "pair_probs" in metadata:
        check = creative_check(pairs, metadata, source, not args.no_per_creative)
    result = {
        "dir": str(args.dir.resolve()),
        "version": v,
        "digestDefinition": schema.digest_definition,
        "parquet": parquet,
        "tfrecord": tfrecord,
        "formatsAgree": (
            parquet["digest"] == tfrecord["digest"] and parquet["rows"] == tfrecord["rows"]
            if parquet and tfrecord
            else None
        ),
        "metadata": (
            {"path": str(metadata_path.resolve()), "bytes": metadata_path.stat().st_size, "keys": sorted(metadata)}
            if metadata is not None
            else None
        ),
        "creativeCheck": check,
    }
    json.dump(result, sys.stdout, allow_nan=False, separators=(",", ":"))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
