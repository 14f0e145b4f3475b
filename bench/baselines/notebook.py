#!/usr/bin/env python3
"""Baseline: the original Colab notebook's algorithm, step by step (BASELINES.md 1-6).

Pure-Python sampling loop (random.choice over a list of one-entry dicts,
np.random.binomial per row), pd.DataFrame, df.to_parquet(index=False),
tf.io.TFRecordWriter over df.iterrows(), json.dump of the two probability dicts.
Writes dataset_v1.parquet, dataset_v1.tfrecord and metadata_v1.json into --out and
prints one JSON line: {"rows", "outputBytes", "seconds": {stage: s}, ...}.
"""

from __future__ import annotations

import time

_t0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import string  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=10_000_000, help="N_SAMPLES (default 10,000,000)")
    ap.add_argument("--target-store-ids", type=int, default=10, help="N_TARGET_STORE_IDS (default 10)")
    ap.add_argument("--creative-pack-ids", type=int, default=100, help="N_CREATIVE_PACK_IDS (default 100)")
    ap.add_argument("--seed", type=int, default=None, help="seeds random and np.random (default: unseeded)")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    return ap.parse_args()


def random_id(prefix: str) -> str:
    return prefix + "".join(random.choice(string.ascii_lowercase) for _ in range(10))


def main() -> int:
    args = parse_args()
    seconds: dict[str, float] = {"import": time.perf_counter() - _t0}
    args.out.mkdir(parents=True, exist_ok=True)
    if args.seed is not None:
        random.seed(args.seed)
        np.random.seed(args.seed % 2**32)

    # 1-2. ids, probabilities, creative -> target mapping as one-entry dicts.
    t = time.perf_counter()
    target_store_ids = [random_id("target_") for _ in range(args.target_store_ids)]
    creative_pack_ids = [random_id("creative_") for _ in range(args.creative_pack_ids)]
    target_probs = np.linspace(0, 1, args.target_store_ids + 2)[1:-1]
    creative_probs = np.random.uniform(-0.01, 0.01, args.creative_pack_ids)
    target_store_id_probs = dict(zip(target_store_ids, target_probs))
    creative_pack_id_probs = dict(zip(creative_pack_ids, creative_probs))
    creative_target_probs = []
    for creative_pack_id in creative_pack_ids:
        target_store_id = random.choice(target_store_ids)
        probability = target_store_id_probs[target_store_id] + creative_pack_id_probs[creative_pack_id]
        if probability < 0 or probability > 1:
            probability = target_store_id_probs[target_store_id] - creative_pack_id_probs[creative_pack_id]
        creative_target_probs.append({(creative_pack_id, target_store_id): probability})
    seconds["setup"] = time.perf_counter() - t

    # 3. the per-row sampling loop.
    t = time.perf_counter()
    creative_pack_id_list: list[str] = []
    target_store_id_list: list[str] = []
    labels: list[int] = []
    for _ in range(args.samples):
        pair = random.choice(creative_target_probs)
        (creative_pack_id, target_store_id), probability = list(pair.items())[0]
        creative_pack_id_list.append(creative_pack_id)
        target_store_id_list.append(target_store_id)
        labels.append(np.random.binomial(1, probability))
    seconds["sample"] = time.perf_counter() - t

    # 4. DataFrame -> Parquet.
    t = time.perf_counter()
    df = pd.DataFrame(
        {
            "target_store_id": target_store_id_list,
            "creative_pack_id": creative_pack_id_list,
            "label": labels,
        }
    )
    seconds["dataframe"] = time.perf_counter() - t
    parquet_path = args.out / "dataset_v1.parquet"
    t = time.perf_counter()
    df.to_parquet(parquet_path, index=False)
    seconds["parquet"] = time.perf_counter() - t

    # 5. TFRecord, one tf.train.Example per df.iterrows() row.
    tfrecord_path = args.out / "dataset_v1.tfrecord"
    t = time.perf_counter()
    with tf.io.TFRecordWriter(str(tfrecord_path)) as writer:
        for _, row in df.iterrows():
            feature = {
                "target_store_id": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[row["target_store_id"].encode()])
                ),
                "creative_pack_id": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[row["creative_pack_id"].encode()])
                ),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[row["label"]])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())
    seconds["tfrecord"] = time.perf_counter() - t

    # 6. The "real probabilities".
    metadata_path = args.out / "metadata_v1.json"
    t = time.perf_counter()
    with open(metadata_path, "w") as f:
        json.dump(
            {"creative_pack_id_probs": creative_pack_id_probs, "target_store_id_probs": target_store_id_probs},
            f,
        )
    seconds["metadata"] = time.perf_counter() - t

    paths = [parquet_path, tfrecord_path, metadata_path]
    seconds["total"] = time.perf_counter() - _t0
    print(
        json.dumps(
            {
                "baseline": "notebook",
                "rows": len(df),
                "positives": int(df["label"].sum()),
                "outputBytes": sum(p.stat().st_size for p in paths),
                "files": {p.name: p.stat().st_size for p in paths},
                "seconds": {k: round(v, 3) for k, v in seconds.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
