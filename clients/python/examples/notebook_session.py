"""A notebook session as a script: generate a dataset, load it three ways, score the truth.

    python examples/notebook_session.py [--base-url URL] [--samples N] [--seed S]
                                        [--token gcloud|google-auth] [--no-tfrecord]

Against the local stack (``npm start`` in the repository) by default; against
the cloud with ``--base-url https://REGION-PROJECT.cloudfunctions.net --token
gcloud``. Each step is one cell of a notebook.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from exploration_data import Client, ExplorationDataError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=None, help="default $EXPLORATION_DATA_URL or local")
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--token", choices=["gcloud", "google-auth"], default=None)
    parser.add_argument("--no-tfrecord", action="store_true", help="skip the TensorFlow cell")
    args = parser.parse_args()

    # Cell 1: a client. Locally no token; in the cloud token="gcloud" or "google-auth".
    ed = Client(args.base_url, token=args.token)
    print(ed)

    # Cell 2: generate; returns once the version is ready (a failed one raises).
    started = time.monotonic()
    v = ed.generate(nSamples=args.samples, seed=args.seed, nTargetStoreIds=5)
    print(f"generated v{v} in {time.monotonic() - started:.1f} s")

    # Cell 3: the Parquet file as a DataFrame (downloaded once, then from the cache).
    for attempt in ("first load", "second load (cache)"):
        started = time.monotonic()
        df = ed.load_parquet(v)
        print(f"load_parquet {attempt}: {len(df):,} rows in {time.monotonic() - started:.2f} s")
    print(df.dtypes.to_string())
    print(df.head(3).to_string())

    # Cell 4: the real probabilities, and how close the observed rates are.
    meta: dict[str, Any] = ed.load_metadata(v)
    observed = df.groupby("target_store_id")["label"].mean()
    true = meta["target_store_id_probs"]
    print("target store          true   observed")
    for target in sorted(true):
        print(f"{target}  {true[target]:.4f}   {observed.get(target, float('nan')):.4f}")
    per_creative = df.groupby("creative_pack_id")["label"].agg(["mean", "size"])
    error = (per_creative["mean"] - per_creative.index.map(meta["pair_probs"])).abs()
    print(
        f"observed rate per creative vs its true q: mean |error| {error.mean():.4f}, "
        f"max {error.max():.4f} over {len(per_creative)} creatives"
    )

    # Cell 5: the TFRecord file as a tf.data.Dataset, parsed with the notebook's spec.
    if not args.no_tfrecord:
        ds = ed.load_tfrecord(v)
        first = next(iter(ds))
        columns = ("target_store_id", "creative_pack_id", "label")
        print("tfrecord record 0:", {k: first[k].numpy() for k in columns})
        print("tfrecord spec:", {k: ds.element_spec[k].dtype.name for k in columns})

    # Cell 6: the files themselves, checksums verified.
    with tempfile.TemporaryDirectory() as folder:
        for path in ed.download(v, folder):
            print(f"downloaded {path.name}: {path.stat().st_size:,} bytes")

    # Cell 7: errors carry the API's code, field and request id.
    try:
        ed.generate(nSamples=0)
    except ExplorationDataError as error:
        print(f"as expected: {error.code} on {error.field}: {error.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
