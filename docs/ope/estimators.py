"""IPS, SNIPS, DM and DR in numpy on to_obp's dict, against the exact value, over seeds.

    # versions already generated, one folder per seed (metadata_v{N}.json + Parquet):
    python docs/ope/estimators.py --dirs ROOT
    # generate them first with the repository's CLI (node build/cli/main.js):
    python docs/ope/estimators.py --generate-into ROOT --seeds 20 --samples 1000000
    # or through a running service (the local stack: npm start):
    python docs/ope/estimators.py --base-url http://127.0.0.1:8080 --seeds 20
    # also through Open Bandit Pipeline (run it with the optional OBP venv's python,
    # PY=$(bash scripts/obp-env.sh)):
    $PY docs/ope/estimators.py --generate-into ROOT --obp

Run from the repository root with ``clients/python/src`` on ``PYTHONPATH`` (or the
client installed). The evaluation policy is the best one (epsilon-greedy with
epsilon 0 over the true q_c), whose exact value is ``policy_values.best``; each seed
is a different model, so what is compared is estimate - truth. Writes
``estimators.csv`` (one row per seed and estimator) and, when matplotlib is
importable, ``estimators.png`` into ``--out`` (default: this folder), and prints the
bias / spread table (docs/ope.md). With ``--obp`` each version's to_obp dict also
goes through OBP's ``OffPolicyEvaluation`` (IPW, SNIPW, DM, DR) with the dense
``action_dist`` and the same reward model as ``estimated_rewards_by_reg_model``;
those estimates go into the CSV as ``OBP IPS`` etc., and the table says how far
they are from the numpy ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from exploration_data import Client, LoggedData, ope
from exploration_data.policies import ActionSpace

Floats = npt.NDArray[np.float64]
BEST = {"type": "epsilon-greedy", "epsilon": 0}
ESTIMATORS = ("IPS", "SNIPS", "DM", "DR")
OBP_NAMES = {"IPS": "ipw", "SNIPS": "snipw", "DM": "dm", "DR": "dr"}
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# ------------------------------------------------------------- estimators --
# Per round i: reward r_i, logged propensity p_i = pi_b(a_i|t_i), the evaluation
# policy's probability of the logged action pi_e(a_i|t_i), and for the model-based
# ones q_hat(a_i) and E_{c ~ pi_e(.|t_i)} q_hat(c). No (n, n_actions) array is
# needed: a creative belongs to one store, so pi_e is one number per creative.


def ips(reward: Floats, pscore: Floats, pi_e_action: Floats) -> float:
    """Inverse propensity scoring: mean of r_i pi_e(a_i|t_i) / p_i (unbiased)."""
    return float(np.mean(reward * (pi_e_action / pscore)))


def snips(reward: Floats, pscore: Floats, pi_e_action: Floats) -> float:
    """Self-normalised IPS: sum r_i w_i / sum w_i (biased, bounded, lower variance)."""
    weights = pi_e_action / pscore
    total = float(np.sum(weights))
    return float(np.sum(reward * weights) / total) if total > 0 else math.nan


def dm(pi_e_q_hat: Floats) -> float:
    """Direct method: mean over rounds of E_{c ~ pi_e(.|t_i)} q_hat(c)."""
    return float(np.mean(pi_e_q_hat))


def dr(
    reward: Floats, pscore: Floats, pi_e_action: Floats, q_hat_action: Floats, pi_e_q_hat: Floats
) -> float:
    """Doubly robust: DM plus IPS of the reward model's residual on the logged action."""
    return float(np.mean(pi_e_q_hat + (pi_e_action / pscore) * (reward - q_hat_action)))


def reward_model(
    action: npt.NDArray[np.int64],
    reward: Floats,
    store_of: npt.NDArray[np.int64],
    prior_rows: float = 10.0,
) -> Floats:
    """q_hat per creative: its observed rate, shrunk toward its store's rate.

    (positives_c + m * rate_{m(c)}) / (rows_c + m) with m = ``prior_rows``: a
    creative the logging policy rarely shows borrows its store's rate instead of
    an uninformed 0.5 (the stores' base rates differ far more than the creatives
    of one store do).
    """
    n_actions, n_stores = len(store_of), int(store_of.max()) + 1
    rows = np.bincount(action, minlength=n_actions).astype(np.float64)
    positives = np.bincount(action, weights=reward, minlength=n_actions)
    store_rows = np.bincount(store_of, weights=rows, minlength=n_stores)
    store_pos = np.bincount(store_of, weights=positives, minlength=n_stores)
    overall = positives.sum() / max(rows.sum(), 1.0)
    store_rate = np.where(store_rows > 0, store_pos / np.maximum(store_rows, 1.0), overall)
    q_hat: Floats = (positives + prior_rows * store_rate[store_of]) / (rows + prior_rows)
    return q_hat


def estimates(feedback: Mapping[str, Any], space: ActionSpace, pi_e: Floats) -> dict[str, float]:
    """IPS, SNIPS, DM, DR of the policy ``pi_e`` (per creative) on ``to_obp``'s dict."""
    action = np.asarray(feedback["action"], dtype=np.int64)
    reward = np.asarray(feedback["reward"], dtype=np.float64)
    pscore = np.asarray(feedback["pscore"], dtype=np.float64)
    q_hat = reward_model(action, reward, space.store_of)
    per_store = np.bincount(space.store_of, weights=pi_e * q_hat, minlength=space.n_stores)
    pi_e_q_hat: Floats = per_store[space.store_of[action]].astype(np.float64)
    pi_e_action = pi_e[action]
    return {
        "IPS": ips(reward, pscore, pi_e_action),
        "SNIPS": snips(reward, pscore, pi_e_action),
        "DM": dm(pi_e_q_hat),
        "DR": dr(reward, pscore, pi_e_action, q_hat[action], pi_e_q_hat),
    }


def estimates_from_action_dist(
    feedback: Mapping[str, Any], action_dist: Floats, estimated_rewards: Floats
) -> dict[str, float]:
    """The same estimators from OBP-shaped dense inputs.

    ``action_dist`` and ``estimated_rewards`` (OBP's estimated_rewards_by_reg_model)
    are both (n_rounds, n_actions, 1), as OBP's estimators take them.
    """
    rows = np.arange(feedback["n_rounds"])
    action = np.asarray(feedback["action"])
    reward = np.asarray(feedback["reward"], dtype=np.float64)
    pscore = np.asarray(feedback["pscore"], dtype=np.float64)
    pi_e_action: Floats = action_dist[rows, action, 0]
    pi_e_q_hat: Floats = np.sum(action_dist[:, :, 0] * estimated_rewards[:, :, 0], axis=1)
    return {
        "IPS": ips(reward, pscore, pi_e_action),
        "SNIPS": snips(reward, pscore, pi_e_action),
        "DM": dm(pi_e_q_hat),
        "DR": dr(reward, pscore, pi_e_action, estimated_rewards[rows, action, 0], pi_e_q_hat),
    }


def obp_estimates(
    feedback: Mapping[str, Any], data: LoggedData, policy: Mapping[str, Any]
) -> dict[str, float]:
    """IPS, SNIPS, DM, DR through Open Bandit Pipeline's OffPolicyEvaluation.

    ``feedback`` is ``to_obp``'s dict as it is; OBP gets the dense action_dist
    (``ope.action_dist``) and, as estimated_rewards_by_reg_model, the same
    per-creative reward model as the numpy DM/DR, on each round's candidates
    (n_rounds, n_actions, 1). Needs ``obp`` (the optional venv of scripts/obp-env.sh).
    """
    from obp.ope import (  # optional: only with --obp
        DirectMethod,
        DoublyRobust,
        InverseProbabilityWeighting,
        OffPolicyEvaluation,
        SelfNormalizedInverseProbabilityWeighting,
    )

    space = data.space
    action = np.asarray(feedback["action"], dtype=np.int64)
    q_hat = reward_model(action, np.asarray(feedback["reward"], dtype=np.float64), space.store_of)
    table = np.zeros((space.n_stores, space.n_actions), dtype=np.float64)
    table[space.store_of, np.arange(space.n_actions)] = q_hat
    stores = space.store_of[action]
    estimated = table[stores][:, :, np.newaxis]
    dist = ope.action_dist(data, policy)
    ope_run = OffPolicyEvaluation(
        bandit_feedback=dict(feedback),
        ope_estimators=[
            InverseProbabilityWeighting(),
            SelfNormalizedInverseProbabilityWeighting(),
            DirectMethod(),
            DoublyRobust(),
        ],
    )
    values = ope_run.estimate_policy_values(
        action_dist=dist, estimated_rewards_by_reg_model=estimated
    )
    return {name: float(values[OBP_NAMES[name]]) for name in ESTIMATORS}


# --------------------------------------------------------------- one seed --


@dataclass
class SeedResult:
    """One version: its seed, rows, exact value and the four estimates."""

    seed: int
    rows: int
    truth: float
    estimates: dict[str, float]
    seconds: float
    obp: dict[str, float] | None = None
    obp_seconds: float | None = None


def evaluate(
    data: LoggedData,
    policy: Mapping[str, Any],
    truth: float | None = None,
    with_obp: bool = False,
) -> SeedResult:
    """The estimators on one version against its exact value (and through OBP).

    The exact value is ``truth`` when given (``Client.policy_value``), else
    ``policy_values.best`` for the best policy, else ``true_value`` of the metadata.
    """
    started = time.monotonic()
    feedback = ope.to_obp(data, context="store-index")
    pi_e = ope.policy_probs(data.metadata, policy)
    exact = truth if truth is not None else _exact(data.metadata, policy)
    found = estimates(feedback, data.space, pi_e)
    config = data.metadata.get("config", {})
    result = SeedResult(
        int(config.get("seed", -1)), feedback["n_rounds"], exact, found, time.monotonic() - started
    )
    if with_obp:
        obp_started = time.monotonic()
        result.obp = obp_estimates(feedback, data, policy)
        result.obp_seconds = time.monotonic() - obp_started
    return result


def _exact(metadata: Mapping[str, Any], policy: Mapping[str, Any]) -> float:
    values = metadata.get("policy_values")
    if dict(policy) == BEST and isinstance(values, Mapping) and "best" in values:
        return float(values["best"])
    return ope.true_value(metadata, policy)


# ------------------------------------------------------------------ report --


def summary(results: Sequence[SeedResult]) -> dict[str, dict[str, float]]:
    """Per estimator: bias (mean error), spread (std of the error), RMSE, over the seeds."""
    out: dict[str, dict[str, float]] = {}
    for name in ESTIMATORS:
        errors = np.array([r.estimates[name] - r.truth for r in results])
        out[name] = {
            "bias": float(errors.mean()),
            "spread": float(errors.std(ddof=1)) if len(errors) > 1 else math.nan,
            "rmse": float(np.sqrt(np.mean(errors**2))),
        }
    return out


def write_csv(results: Sequence[SeedResult], path: Path) -> None:
    """One row per seed and estimator: seed, rows, truth, estimator, estimate, error."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seed", "rows", "truth", "estimator", "estimate", "error"])
        for r in results:
            for name in ESTIMATORS:
                value = r.estimates[name]
                writer.writerow(
                    [r.seed, r.rows, repr(r.truth), name, repr(value), repr(value - r.truth)]
                )
            for name, value in (r.obp or {}).items():
                writer.writerow(
                    [
                        r.seed,
                        r.rows,
                        repr(r.truth),
                        f"OBP {name}",
                        repr(value),
                        repr(value - r.truth),
                    ]
                )


def plot(results: Sequence[SeedResult], path: Path, title: str) -> bool:
    """Estimate - truth per estimator, a dot per seed, mean +- std; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    rng = np.random.default_rng(0)
    for x, name in enumerate(ESTIMATORS):
        errors = np.array([r.estimates[name] - r.truth for r in results])
        ax.scatter(x + rng.uniform(-0.12, 0.12, len(errors)), errors, s=14, alpha=0.7)
        ax.errorbar(
            x + 0.3,
            errors.mean(),
            yerr=errors.std(ddof=1) if len(errors) > 1 else 0,
            fmt="o",
            color="black",
            capsize=4,
        )
    ax.axhline(0.0, color="grey", linewidth=1)
    ax.set_xticks(range(len(ESTIMATORS)), ESTIMATORS)
    ax.set_ylabel("estimate - exact value")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def obp_difference(results: Sequence[SeedResult]) -> dict[str, float] | None:
    """Per estimator, the largest |OBP - numpy| over the seeds; None without --obp."""
    if not results or any(r.obp is None for r in results):
        return None
    return {
        name: max(abs(r.obp[name] - r.estimates[name]) for r in results if r.obp)
        for name in ESTIMATORS
    }


def markdown(
    table: Mapping[str, Mapping[str, float]],
    seeds: int,
    obp_diff: Mapping[str, float] | None = None,
) -> str:
    """The bias / spread / RMSE table in Markdown, as docs/ope.md shows it."""
    head = f"| estimator | bias | spread (std, {seeds} seeds) | RMSE |"
    rule = "|---|---|---|---|"
    if obp_diff is not None:
        head += " max \\|OBP - numpy\\| |"
        rule += "---|"
    lines = [head, rule]
    for name, row in table.items():
        line = f"| {name} | {row['bias']:+.5f} | {row['spread']:.5f} | {row['rmse']:.5f} |"
        if obp_diff is not None:
            line += f" {obp_diff[name]:.1e} |"
        lines.append(line)
    return "\n".join(lines)


# -------------------------------------------------------------------- main --


def _generate_with_cli(root: Path, args: argparse.Namespace) -> list[Path]:
    cli = args.cli
    folders = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        folder = root / f"seed-{seed:03d}"
        if not (folder / "metadata_v1.json").exists():
            command = [
                "node",
                str(cli),
                "generate",
                "--out",
                str(folder),
                "--samples",
                str(args.samples),
                "--seed",
                str(seed),
                "--target-store-ids",
                str(args.stores),
                "--creative-pack-ids",
                str(args.creatives),
                "--formats",
                "parquet",
                "--no-progress",
            ]
            if args.logging_policy != "none":
                command += ["--logging-policy", args.logging_policy]
            log = root / f"seed-{seed:03d}.log"
            with open(log, "w") as out:
                done = subprocess.run(command, check=False, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed: {log.read_text().strip()[-500:]}")
        folders.append(folder)
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    """Evaluate every version, write the CSV and the PNG, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dirs", type=Path, help="a folder of version folders (one per seed)")
    source.add_argument("--generate-into", type=Path, help="generate with the CLI into this folder")
    source.add_argument("--base-url", help="generate and download through the service")
    parser.add_argument(
        "--cli",
        type=Path,
        default=REPO / "build" / "cli" / "main.js",
        help="the CLI for --generate-into (default: this checkout's build)",
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--creatives", type=int, default=100)
    parser.add_argument(
        "--logging-policy",
        default='{"type": "softmax", "beta": 200}',
        help='JSON, or "none": no logging policy (uniform rows, pscore = 1/|C_t|)',
    )
    parser.add_argument("--policy", default=json.dumps(BEST), help="the evaluation policy")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument(
        "--obp",
        action="store_true",
        help="also estimate through OBP's OffPolicyEvaluation (needs obp: scripts/obp-env.sh)",
    )
    args = parser.parse_args(argv)
    policy = json.loads(args.policy)

    results: list[SeedResult] = []
    if args.base_url:
        client = Client(args.base_url)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            version = client.generate(
                nSamples=args.samples,
                seed=seed,
                nTargetStoreIds=args.stores,
                nCreativePackIds=args.creatives,
                formats=["parquet"],
                loggingPolicy=None
                if args.logging_policy == "none"
                else json.loads(args.logging_policy),
            )
            truth = float(client.policy_value(version, policy)["value"])
            results.append(evaluate(client.logged_data(version), policy, truth, args.obp))
            print(f"v{version} seed {seed}: truth {truth:.5f} {results[-1].estimates}", flush=True)
    else:
        if args.generate_into:
            args.generate_into.mkdir(parents=True, exist_ok=True)
            folders = _generate_with_cli(args.generate_into, args)
        else:
            folders = sorted(p.parent for p in args.dirs.glob("*/metadata_v*.json"))
        if not folders:
            print(f"no version folders in {args.dirs}", file=sys.stderr)
            return 1
        for folder in folders:
            results.append(evaluate(LoggedData.from_dir(folder), policy, with_obp=args.obp))
            r = results[-1]
            line = f"{folder.name}: truth {r.truth:.5f} {r.estimates} ({r.seconds:.1f} s)"
            if r.obp is not None:
                line += f"; OBP {r.obp} ({r.obp_seconds:.1f} s)"
            print(line, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(results, args.out / "estimators.csv")
    table = summary(results)
    print(markdown(table, len(results), obp_difference(results)))
    title = (
        f"{len(results)} seeds x {results[0].rows:,} rows, logging {args.logging_policy},\n"
        f"evaluating {args.policy}"
    )
    diff = obp_difference(results)
    if diff is not None:
        title += f"; OBP's estimates within {max(diff.values()):.0e} of these"
    if plot(results, args.out / "estimators.png", title):
        print(f"wrote {args.out / 'estimators.png'}")
    else:
        print("matplotlib is not importable: no PNG (the CSV has every number)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
