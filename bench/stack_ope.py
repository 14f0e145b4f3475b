#!/usr/bin/env python3
"""evaluatePolicy and the Python client's to_obp on a running stack, timed (issue 15).

    PYTHONPATH=clients/python/src python bench/stack_ope.py --base-url http://127.0.0.1:8080 \
        [--samples 1000000] [--policy '{"type":"softmax","beta":5}'] [--seed 42] [--also-version N]

Generates one version with the logging policy (POST to ready, timed), then times
``Client.policy_value`` (``POST /evaluatePolicy``) of the best policy, and
``Client.to_obp`` (the Parquet download into a fresh cache, then the dict) with
the sizes of its arrays; ``--also-version`` times policy_value of another version
too (the 100M-row one: evaluatePolicy reads its metadata, not its rows). Prints
one JSON line. Runs in the product's venv (scripts/python-env.sh): no OBP needed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time

from exploration_data import Client

BEST = {"type": "epsilon-greedy", "epsilon": 0}


def main(argv: list[str] | None = None) -> int:
    """Generate, evaluate, export; print the timings."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--policy", default='{"type":"softmax","beta":5}')
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--also-version", type=int)
    args = ap.parse_args(argv)
    out: dict[str, object] = {"samples": args.samples, "loggingPolicy": json.loads(args.policy)}
    with tempfile.TemporaryDirectory(prefix="stack-ope-cache-") as cache:
        client = Client(args.base_url, cache_dir=cache)
        t = time.perf_counter()
        version = client.generate(
            nSamples=args.samples, seed=args.seed, loggingPolicy=json.loads(args.policy)
        )
        out["version"] = version
        out["generateToReadySeconds"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        value = client.policy_value(version, BEST)
        out["policyValueSeconds"] = round(time.perf_counter() - t, 3)
        out["policyValue"] = value
        t = time.perf_counter()
        client.policy_value(version, BEST)
        out["policyValueAgainSeconds"] = round(time.perf_counter() - t, 3)

        t = time.perf_counter()
        feedback = client.to_obp(version)
        out["toObpSeconds"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        client.to_obp(version)
        out["toObpCachedSeconds"] = round(time.perf_counter() - t, 3)
        out["toObpArrays"] = {
            k: [list(v.shape), str(v.dtype), int(v.nbytes)]
            for k, v in feedback.items()
            if hasattr(v, "nbytes")
        }
        out["meanPscore"] = float(feedback["pscore"].mean())
        if args.also_version is not None:
            t = time.perf_counter()
            other = client.policy_value(args.also_version, BEST)
            out["alsoVersion"] = {
                "version": args.also_version,
                "policyValueSeconds": round(time.perf_counter() - t, 3),
                "policyValue": other,
            }
    out["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
