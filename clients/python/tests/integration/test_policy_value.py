"""``Client.policy_value`` (``POST /evaluatePolicy``) against the real local stack.

Each answer is checked against the client's own arithmetic on the version's
metadata (``ope.true_value``, from ``pair_probs`` and ``creative_pack_target``
alone), and every refusal for its code, HTTP status and field.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from exploration_data import Client, ExplorationDataError, ope

INPUTS: dict[str, Any] = {
    "nSamples": 70_000,
    "seed": 27,
    "nTargetStoreIds": 6,
    "nCreativePackIds": 50,
    "formats": ["parquet"],
}
KEYS = ["version", "value", "logging", "uniform", "best"]


@pytest.fixture(scope="module")
def version(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    """One version without a logging policy, and its metadata."""
    client = Client(
        os.environ["EXPLORATION_DATA_TEST_URL"],
        cache_dir=tmp_path_factory.mktemp("cache"),
        progress=False,
    )
    number = client.generate(**INPUTS)
    return number, client.load_metadata(number)


def test_named_policies_and_a_table_equal_the_metadata_values(
    version: tuple[int, dict[str, Any]], client: Client
) -> None:
    number, metadata = version
    creatives = ope.creative_ids(metadata)
    store = metadata["creative_pack_target"][creatives[0]]
    same = [c for c in creatives if metadata["creative_pack_target"][c] == store]
    table = {"probs": {same[0]: 0.5, same[-1]: 0.5} if len(same) > 1 else {same[0]: 1.0}}
    uniform = ope.true_value(metadata, {"type": "uniform"})
    best = ope.true_value(metadata, {"type": "epsilon-greedy", "epsilon": 0})
    for policy in [
        {"type": "uniform"},
        {"type": "softmax", "beta": 120},
        {"type": "softmax", "beta": -60.5, "scoreNoise": 0},
        {"type": "epsilon-greedy", "epsilon": 0.2},
        table,
    ]:
        answer = client.policy_value(number, policy)
        assert list(answer) == KEYS
        assert answer["version"] == number
        assert answer["value"] == pytest.approx(ope.true_value(metadata, policy), abs=1e-12)
        assert answer["uniform"] == pytest.approx(uniform, abs=1e-12)
        assert answer["best"] == pytest.approx(best, abs=1e-12)
        assert answer["logging"] == answer["uniform"]  # no logging policy
    assert client.policy_value("latest", {"type": "uniform"})["version"] >= number


def test_score_noise_is_answered_by_the_service(
    version: tuple[int, dict[str, Any]], client: Client
) -> None:
    number, metadata = version
    noisy = {"type": "epsilon-greedy", "epsilon": 0, "scoreNoise": 0.05}
    with pytest.raises(ExplorationDataError) as local:
        ope.true_value(metadata, noisy)
    assert local.value.field == "policy.scoreNoise"
    answer = client.policy_value(number, noisy)
    # greedy on scores noisier (sigma 0.05) than q's spread in a store (0.02): below best,
    # and, like any policy here, within 0.02 of uniform
    assert answer["uniform"] - 0.02 < answer["value"] < answer["best"]


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"type": "softmax", "beta": "9"}, "policy.beta"),
        ({"type": "epsilon-greedy", "epsilon": 2}, "policy.epsilon"),
        ({"type": "softmax", "beta": 1, "adaptive": {"updateEveryBlocks": 1}}, "policy.adaptive"),
        ({"probs": {"creative_nobody": 1}}, "policy.probs"),
        ({"type": "greedy"}, "policy.type"),
    ],
)
def test_a_bad_policy_is_400_with_its_field(
    version: tuple[int, dict[str, Any]], client: Client, policy: dict[str, Any], field: str
) -> None:
    with pytest.raises(ExplorationDataError) as raised:
        client.policy_value(version[0], policy)
    assert (raised.value.http_status, raised.value.code) == (400, "INVALID_ARGUMENT")
    assert raised.value.field == field


def test_404_and_409_as_the_loaders(client: Client) -> None:
    with pytest.raises(ExplorationDataError) as missing:
        client.policy_value(999_999, {"type": "uniform"})
    assert (missing.value.http_status, missing.value.code) == (404, "NOT_FOUND")
    for name, status in [
        ("EXPLORATION_DATA_GENERATING_VERSION", "generating"),
        ("EXPLORATION_DATA_FAILED_VERSION", "failed"),
    ]:
        with pytest.raises(ExplorationDataError) as raised:
            client.policy_value(int(os.environ[name]), {"type": "uniform"})
        assert (raised.value.http_status, raised.value.code) == (409, "FAILED_PRECONDITION")
        assert raised.value.version_status == status
