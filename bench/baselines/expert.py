#!/usr/bin/env python3
"""Baseline: the strongest Python an expert would write (the peer to beat), no checksums.

As the vectorised baseline for the draws and the Parquet file (numpy's Generator,
all rows at once; a dictionary-encoded pyarrow Table written by
pyarrow.parquet.write_table), but no TensorFlow at all: a dataset has only
2 x nCreativePackIds distinct TFRecord records (a row is fixed by its creative pack,
which fixes its target store, and its label), so each is serialized once as a
tf.train.Example by hand (protobuf wire format), framed once (length, masked
CRC-32C of the length, payload, masked CRC-32C of the payload), and the file is a
numpy gather of those framed records (all of the same length), a million rows at
a time. It computes no checksum of the files it writes (no MD5, no SHA-256, no
CRC-32C): see /work/shared/BASELINES.md, "The strongest Python an expert would
write". json metadata with the notebook's two keys.
Writes dataset_v1.parquet, dataset_v1.tfrecord and metadata_v1.json into --out and
prints one JSON line: {"rows", "outputBytes", "seconds": {stage: s}, ...}.
"""

from __future__ import annotations

import time

_t0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import struct  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import google_crc32c  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

LETTERS = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
CHUNK_ROWS = 1 << 20


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


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def example(target: bytes, creative: bytes, label: int) -> bytes:
    """tf.train.Example{features{feature: target_store_id, creative_pack_id, label}} by hand."""

    def entry(key: bytes, feature: bytes) -> bytes:
        return field(1, field(1, key) + field(2, feature))  # map<string, Feature> entry

    bytes_list = lambda value: field(1, field(1, value))  # noqa: E731  Feature.bytes_list
    int64_list = lambda value: field(3, field(1, varint(value)))  # noqa: E731  Feature.int64_list (packed)
    features = (
        entry(b"target_store_id", bytes_list(target))
        + entry(b"creative_pack_id", bytes_list(creative))
        + entry(b"label", int64_list(label))
    )
    return field(1, features)


def masked_crc(data: bytes) -> int:
    crc = google_crc32c.value(data)
    return ((crc >> 15 | crc << 17) + 0xA282EAD8) & 0xFFFFFFFF


def framed(payload: bytes) -> bytes:
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc(length)) + payload + struct.pack("<I", masked_crc(payload))


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
    labels = (rng.random(args.samples) < q[creative_idx]).astype(np.int64)
    seconds["sample"] = time.perf_counter() - t

    # Parquet from a dictionary-encoded Arrow table (store_schema=False: pandas
    # reads object columns, the notebook's dtypes).
    parquet_path = args.out / "dataset_v1.parquet"
    t = time.perf_counter()
    target_idx = target_of[creative_idx].astype(np.int32)
    table = pa.table(
        {
            "target_store_id": pa.DictionaryArray.from_arrays(target_idx, pa.array(target_ids, pa.string())),
            "creative_pack_id": pa.DictionaryArray.from_arrays(creative_idx, pa.array(creative_ids, pa.string())),
            "label": pa.array(labels),
        }
    )
    pq.write_table(table, parquet_path, store_schema=False)
    del table, target_idx
    seconds["parquet"] = time.perf_counter() - t

    # TFRecord: the 2 * C distinct records, each serialized and framed once;
    # then every row is an index into that table.
    tfrecord_path = args.out / "dataset_v1.tfrecord"
    t = time.perf_counter()
    records = [
        framed(example(target_ids[target_of[c]].encode(), creative.encode(), label))
        for c, creative in enumerate(creative_ids)
        for label in (0, 1)
    ]
    lengths = {len(r) for r in records}
    if len(lengths) != 1:
        raise SystemExit(f"expert.py: records of different lengths {sorted(lengths)}; ids are fixed-length")
    record_table = np.frombuffer(b"".join(records), dtype=np.uint8).reshape(len(records), -1)
    with open(tfrecord_path, "wb", buffering=0) as f:
        for first in range(0, args.samples, CHUNK_ROWS):
            pair = creative_idx[first : first + CHUNK_ROWS].astype(np.intp) * 2 + labels[first : first + CHUNK_ROWS]
            f.write(record_table[pair])  # one contiguous gather, written from its buffer
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
                "baseline": "expert",
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
