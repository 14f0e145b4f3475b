#!/usr/bin/env python3
"""Open Bandit Pipeline's SyntheticBanditDataset, timed: the bench's OBP producer.

    obp_synthetic.py --rounds N [--actions 100] [--dim-context 5] [--seed 42]
        [--behavior linear|uniform]

Runs in the optional OBP venv (scripts/obp-env.sh), never in the product's:
OBP is not a dependency of exploration-data. What it times is OBP's documented
use (its README and the synthetic-data examples):

    dataset = SyntheticBanditDataset(n_actions=100, dim_context=5, reward_type="binary",
        reward_function=logistic_reward_function,
        behavior_policy_function=linear_behavior_policy, random_state=seed)
    bandit_feedback = dataset.obtain_batch_bandit_feedback(n_rounds=N)

``linear_behavior_policy`` is a softmax over linear logits, the counterpart of our
softmax logging policy; ``--behavior uniform`` passes none (OBP then logs
uniformly and skips its per-round ``choice`` loop). OBP keeps everything in
memory (expected_reward and pi_b are dense n x n_actions float64) and writes no
file, so nothing here touches the disk.

Prints one JSON line: {"rounds", "actions", "seconds": {"import", "init", "batch",
"total"}, "baseRssBytes" (this process's peak RSS after the imports),
"feedbackBytes" (the nbytes of the returned arrays), "obp" (its version)}; the
bench takes wall time and peak RSS from bench/measure.py, like every producer.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def main(argv: list[str] | None = None) -> int:
    """Build the dataset, draw the rounds, print the JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--actions", type=int, default=100)
    ap.add_argument("--dim-context", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--behavior", choices=("linear", "uniform"), default="linear")
    ap.add_argument("--out", help="ignored: OBP writes no file (accepted so the bench can pass it)")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    import numpy as np
    import obp
    from obp.dataset import (
        SyntheticBanditDataset,
        linear_behavior_policy,
        logistic_reward_function,
    )

    imported = time.perf_counter()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    dataset = SyntheticBanditDataset(
        n_actions=args.actions,
        dim_context=args.dim_context,
        reward_type="binary",
        reward_function=logistic_reward_function,
        behavior_policy_function=linear_behavior_policy if args.behavior == "linear" else None,
        random_state=args.seed,
    )
    initialised = time.perf_counter()
    feedback = dataset.obtain_batch_bandit_feedback(n_rounds=args.rounds)
    done = time.perf_counter()
    feedback_bytes = sum(v.nbytes for v in feedback.values() if isinstance(v, np.ndarray))
    print(
        json.dumps(
            {
                "rounds": int(feedback["n_rounds"]),
                "actions": int(feedback["n_actions"]),
                "behavior": args.behavior,
                "seconds": {
                    "import": round(imported - started, 3),
                    "init": round(initialised - imported, 3),
                    "batch": round(done - initialised, 3),
                    "total": round(done - started, 3),
                },
                "baseRssBytes": base_rss,
                "feedbackBytes": int(feedback_bytes),
                "meanReward": float(np.mean(feedback["reward"])),
                "obp": getattr(obp, "__version__", "?"),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
