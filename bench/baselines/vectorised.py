#!/usr/bin/env python3
"""Baseline: the vectorised Python a careful user would write instead of the notebook.

numpy's Generator for all draws at once, a pyarrow Table with dictionary-encoded
string columns written by pyarrow.parquet.write_table, and a TFRecord file gathered
by numpy from the few distinct records there are: a row is fixed by its creative
pack (which fixes its target store) and its label, so TensorFlow serializes and
frames each of the 2 * C distinct records once (tf.train.Example, tf.io.TFRecordWriter)
and every row is an index into that table; no Example is built per row. json
metadata with the notebook's two keys.
Writes dataset_v1.parquet, dataset_v1.tfrecord and metadata_v1.json into --out and
prints one JSON line: {"rows", "outputBytes", "seconds": {stage: s}, ...}.
"""

from __future__ import annotations

import time

_t0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import tensorflow as tf  # noqa: E402

LETTERS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=10_000_000, help="rows (default 10,000,000)")
    ap.add_argument("--target-store-ids", type=int, default=10, help="target stores (default 10)")
    ap.add_argument("--creative-pack-ids", type=int, default=100, help="creative packs (default 100)")
    ap.add_argument("--seed", type=int, default=None, help="numpy Generator seed (default: fresh entropy)")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    return ap.parse_args()


def random_ids(rng: np.random.Generator, prefix: str, count: int) -> list[str]:
    """`count` distinct ids: prefix + 10 random lowercase letters (redraw on collision)."""
    ids: dict[str, None] = {}
    while len(ids) < count:
        codes = LETTERS[rng.integers(0, 26, size=(count - len(ids), 10))]
        for raw in codes.view("S10").ravel():
            ids.setdefault(prefix + raw.decode("ascii"), None)
    return list(ids)[:count]


def distinct_records(
    target_ids: list[str], creative_ids: list[str], target_of: np.ndarray, scratch: Path
) -> list[bytes]:
    """The framed TFRecord record of (creative c, label l) at index 2 * c + l, each
    serialized by tf.train.Example and framed by tf.io.TFRecordWriter."""
    path = scratch / "distinct-records.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for c, creative in enumerate(creative_ids):
            for label in (0, 1):
                example = tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            "target_store_id": tf.train.Feature(
                                bytes_list=tf.train.BytesList(value=[target_ids[target_of[c]].encode()])
                            ),
                            "creative_pack_id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[creative.encode()])),
                            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                        }
                    )
                )
                writer.write(example.SerializeToString())
    framed = path.read_bytes()
    path.unlink()
    records, offset = [], 0
    while offset < len(framed):
        length = int.from_bytes(framed[offset : offset + 8], "little")
        end = offset + 8 + 4 + length + 4  # length, its CRC, data, the data's CRC
        records.append(framed[offset:end])
        offset = end
    return records


def write_gathered(path: Path, records: list[bytes], pair: np.ndarray, chunk_rows: int = 1 << 20) -> None:
    """Writes records[pair[i]] for every row i, a million rows at a time."""
    lengths = np.array([len(r) for r in records], dtype=np.int64)
    flat = np.frombuffer(b"".join(records), dtype=np.uint8)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    same_length = bool((lengths == lengths[0]).all())
    table = flat.reshape(len(records), int(lengths[0])) if same_length else None
    with open(path, "wb") as f:
        for first in range(0, len(pair), chunk_rows):
            rows = pair[first : first + chunk_rows]
            if table is not None:
                f.write(table[rows].tobytes())
                continue
            # Records of different lengths: the byte positions of each row's record.
            row_lengths = lengths[rows]
            row_ends = np.cumsum(row_lengths)
            shift = np.repeat(starts[rows] - (row_ends - row_lengths), row_lengths)
            f.write(flat[np.arange(int(row_ends[-1])) + shift].tobytes())


def main() -> int:
    args = parse_args()
    seconds: dict[str, float] = {"import": time.perf_counter() - _t0}
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    n_t, n_c = args.target_store_ids, args.creative_pack_ids

    # Model: p_t, e_c, creative -> target, q_c (the notebook's rule).
    t = time.perf_counter()
    target_ids = random_ids(rng, "target_", n_t)
    creative_ids = random_ids(rng, "creative_", n_c)
    p = np.linspace(0, 1, n_t + 2)[1:-1]
    e = rng.uniform(-0.01, 0.01, n_c)
    target_of = rng.integers(0, n_t, n_c)
    q = p[target_of] + e
    q = np.where((q < 0) | (q > 1), p[target_of] - e, q)
    seconds["setup"] = time.perf_counter() - t

    # All rows at once.
    t = time.perf_counter()
    creative_idx = rng.integers(0, n_c, args.samples, dtype=np.int32)
    target_idx = target_of[creative_idx].astype(np.int32)
    labels = (rng.random(args.samples) < q[creative_idx]).astype(np.int64)
    seconds["sample"] = time.perf_counter() - t

    # Parquet from a dictionary-encoded Arrow table. store_schema=False keeps the
    # Arrow dictionary type out of the file, so pandas reads object columns (the
    # notebook's dtypes), not categoricals.
    parquet_path = args.out / "dataset_v1.parquet"
    t = time.perf_counter()
    table = pa.table(
        {
            "target_store_id": pa.DictionaryArray.from_arrays(target_idx, pa.array(target_ids, pa.string())),
            "creative_pack_id": pa.DictionaryArray.from_arrays(creative_idx, pa.array(creative_ids, pa.string())),
            "label": pa.array(labels),
        }
    )
    pq.write_table(table, parquet_path, store_schema=False)
    seconds["parquet"] = time.perf_counter() - t

    # TFRecord: TensorFlow writes each distinct (creative, label) record once,
    # framed with its length and CRCs; numpy then gathers one per row.
    tfrecord_path = args.out / "dataset_v1.tfrecord"
    t = time.perf_counter()
    records = distinct_records(target_ids, creative_ids, target_of, args.out)
    pair = creative_idx.astype(np.int64) * 2 + labels
    write_gathered(tfrecord_path, records, pair)
    seconds["tfrecord"] = time.perf_counter() - t

    metadata_path = args.out / "metadata_v1.json"
    t = time.perf_counter()
    with open(metadata_path, "w") as f:
        json.dump(
            {
                "creative_pack_id_probs": dict(zip(creative_ids, e.tolist())),
                "target_store_id_probs": dict(zip(target_ids, p.tolist())),
            },
            f,
        )
    seconds["metadata"] = time.perf_counter() - t

    paths = [parquet_path, tfrecord_path, metadata_path]
    seconds["total"] = time.perf_counter() - _t0
    print(
        json.dumps(
            {
                "baseline": "vectorised",
                "rows": int(args.samples),
                "positives": int(labels.sum()),
                "outputBytes": sum(p.stat().st_size for p in paths),
                "files": {p.name: p.stat().st_size for p in paths},
                "seconds": {k: round(v, 3) for k, v in seconds.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
