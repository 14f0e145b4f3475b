"""A small logged version built by hand: Parquet rows with pscore and a matching metadata.

Three stores (the third without creatives), five creatives, a softmax logging
policy (beta = 50) whose probabilities, exact values and rows are computed here
with plain Python, independently of exploration_data's numpy code.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

STORES = {"target_aaa": 0.25, "target_bbb": 0.5, "target_ccc": 0.75}
# creative -> (store, q_c), in the metadata's creative (action index) order.
CREATIVES = {
    "creative_c0": ("target_aaa", 0.26),
    "creative_c1": ("target_bbb", 0.49),
    "creative_c2": ("target_aaa", 0.24),
    "creative_c3": ("target_bbb", 0.51),
    "creative_c4": ("target_bbb", 0.50),
}
BETA = 50.0
# The rows: (creative, label); each row's store is its creative's.
ROWS = [
    ("creative_c0", 1),
    ("creative_c1", 0),
    ("creative_c3", 1),
    ("creative_c2", 0),
    ("creative_c4", 1),
    ("creative_c3", 0),
    ("creative_c0", 0),
    ("creative_c1", 1),
    ("creative_c3", 1),
    ("creative_c4", 0),
    ("creative_c2", 1),
    ("creative_c3", 1),
]


def members(store: str) -> list[str]:
    return [c for c, (s, _) in CREATIVES.items() if s == store]


def softmax_table(beta: float) -> dict[str, float]:
    """pi(c | m(c)) of softmax(beta * q) per store, with math.exp."""
    out: dict[str, float] = {}
    for store in STORES:
        names = members(store)
        weights = [math.exp(beta * CREATIVES[c][1]) for c in names]
        total = sum(weights)
        out.update({c: w / total for c, w in zip(names, weights, strict=True)})
    return out


def value(table: dict[str, float]) -> float:
    """V(pi) = sum_t p(t) sum_{c in C_t} pi(c|t) q_c with p(t) = |C_t| / |C|."""
    n = len(CREATIVES)
    return sum(
        len(members(store)) / n * sum(table[c] * CREATIVES[c][1] for c in members(store))
        for store in STORES
    )


LOGGING = softmax_table(BETA)
BEST = {
    "creative_c0": 1.0,
    "creative_c1": 0.0,
    "creative_c2": 0.0,
    "creative_c3": 1.0,
    "creative_c4": 0.0,
}
# By hand: uniform = mean q = 2.0 / 5; best = 2/5 * 0.26 + 3/5 * 0.51.
UNIFORM_VALUE = 0.4
BEST_VALUE = 0.41


def metadata(*, policy: bool = True, version: int = 3, parquet: Any = None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "schemaVersion": 1,
        "version": version,
        "config": {"nSamples": len(ROWS), "nTargetStoreIds": 3, "nCreativePackIds": 5, "seed": 1},
        "target_store_id_probs": dict(STORES),
        "creative_pack_id_probs": {c: q - STORES[s] for c, (s, q) in CREATIVES.items()},
        "creative_pack_target": {c: s for c, (s, _) in CREATIVES.items()},
        "pair_probs": {c: q for c, (_, q) in CREATIVES.items()},
        "objects": {
            "parquet": parquet or {"name": f"dataset_v{version}.parquet", "rows": len(ROWS)},
        },
    }
    if policy:
        meta["config"]["loggingPolicy"] = {"type": "softmax", "beta": BETA, "scoreNoise": 0}
        meta["logging_policy"] = {"type": "softmax", "beta": BETA, "scoreNoise": 0}
        meta["logging_probs"] = dict(LOGGING)
        meta["policy_values"] = {
            "logging": value(LOGGING),
            "uniform": UNIFORM_VALUE,
            "best": BEST_VALUE,
        }
        meta["best_creative"] = {"target_aaa": "creative_c0", "target_bbb": "creative_c3"}
    return meta


def table(rows: list[tuple[str, int]], *, pscore: bool = True) -> pa.Table:
    """The contract's columns: target_store_id, creative_pack_id, label[, pscore]."""
    columns: dict[str, pa.Array] = {
        "target_store_id": pa.array([CREATIVES[c][0] for c, _ in rows], pa.string()),
        "creative_pack_id": pa.array([c for c, _ in rows], pa.string()),
        "label": pa.array([r for _, r in rows], pa.int64()),
    }
    if pscore:
        columns["pscore"] = pa.array([LOGGING[c] for c, _ in rows], pa.float64())
    fields = [pa.field(name, array.type, nullable=False) for name, array in columns.items()]
    return pa.Table.from_arrays(list(columns.values()), schema=pa.schema(fields))


def parquet_bytes(tbl: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(tbl, sink, use_dictionary=["target_store_id", "creative_pack_id", "pscore"])
    return sink.getvalue()


def write_version(folder: Path, *, policy: bool = True, shards: int = 1) -> dict[str, Any]:
    """dataset_v3.parquet (or shards) and metadata_v3.json in ``folder``; the metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    if shards == 1:
        meta = metadata(policy=policy)
        pq.write_table(table(ROWS, pscore=policy), folder / "dataset_v3.parquet")
    else:
        bounds = [len(ROWS) * k // shards for k in range(shards + 1)]
        entries = []
        for k in range(shards):
            name = f"dataset_v3-{k:05d}-of-{shards:05d}.parquet"
            part = ROWS[bounds[k] : bounds[k + 1]]
            pq.write_table(table(part, pscore=policy), folder / name)
            entries.append({"name": name, "rows": len(part)})
        meta = metadata(policy=policy, parquet={"shards": entries})
    (folder / "metadata_v3.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
