"""The client's policy arithmetic against the service's own (shared/policy), on generator models.

The service's build (``build/shared``) is run with node on the same models the
generator builds; the client must give the same per-creative probabilities and
exact values from the metadata maps alone: uniform and epsilon-greedy bit for bit,
softmax within 1e-15 (numpy's exp and V8's Math.exp differ in the last bit for
about one input in ten).
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import numpy as np
import pytest
from conftest import REPO, env

from exploration_data import ope

SCRIPT = """
import {buildModel} from '%(build)s/shared/model.js';
import {policyProbabilities} from '%(build)s/shared/policy/probabilities.js';
import {policyValue} from '%(build)s/shared/policy/values.js';
const {models, policies} = JSON.parse(process.argv[1]);
const out = models.map(([seed, nTargetStoreIds, nCreativePackIds]) => {
  const m = buildModel({seed, nTargetStoreIds, nCreativePackIds});
  const map = values => Object.fromEntries(m.creativeIds.map((c, i) => [c, values(i)]));
  const metadata = {
    target_store_id_probs: Object.fromEntries(m.targetIds.map((t, i) => [t, m.targetProbs[i]])),
    creative_pack_target: map(i => m.targetIds[m.creativeTarget[i]]),
    pair_probs: map(i => m.pairProbs[i]),
  };
  const results = policies.map(policy => {
    const pi = policyProbabilities(policy, m.pairProbs, m);
    return {probs: Array.from(pi), value: policyValue(pi, m)};
  });
  return {metadata, results};
});
process.stdout.write(JSON.stringify(out));
"""

MODELS = [[1, 10, 100], [7, 30, 2000], [42, 3, 6]]
POLICIES: list[dict[str, Any]] = [
    {"type": "uniform"},
    {"type": "epsilon-greedy", "epsilon": 0, "scoreNoise": 0},
    {"type": "epsilon-greedy", "epsilon": 0.3, "scoreNoise": 0},
    {"type": "softmax", "beta": 200, "scoreNoise": 0},
    {"type": "softmax", "beta": -350.5, "scoreNoise": 0},
    {"type": "softmax", "beta": 1e6, "scoreNoise": 0},
]


@pytest.fixture(scope="module")
def service() -> list[dict[str, Any]]:
    build = (REPO / "build").resolve().as_uri()
    done = subprocess.run(
        [
            env("EXPLORATION_DATA_NODE"),
            "--input-type=module",
            "-e",
            SCRIPT % {"build": build},
            json.dumps({"models": MODELS, "policies": POLICIES}),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer: list[dict[str, Any]] = json.loads(done.stdout)
    return answer


@pytest.mark.parametrize("model", range(len(MODELS)))
def test_probabilities_and_values_are_the_services(
    service: list[dict[str, Any]], model: int
) -> None:
    metadata = service[model]["metadata"]
    n_creatives = MODELS[model][2]
    for policy, theirs in zip(POLICIES, service[model]["results"], strict=True):
        mine = ope.policy_probs(metadata, policy)
        expected = np.array(theirs["probs"])
        assert len(mine) == n_creatives
        if policy["type"] == "softmax":
            assert np.abs(mine - expected).max() <= 1e-15, policy
        else:
            assert mine.tolist() == expected.tolist(), policy
        assert abs(ope.true_value(metadata, policy) - theirs["value"]) <= 1e-15, policy
