"""docs/ope/estimators.py: IPS, SNIPS, DM, DR on known numbers and on the hand-built version."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from ope_data import BEST_VALUE, CREATIVES, LOGGING, ROWS, metadata, table, write_version

from exploration_data import LoggedData, ope

SCRIPT = Path(__file__).resolve().parents[4] / "docs" / "ope" / "estimators.py"
BEST = {"type": "epsilon-greedy", "epsilon": 0}


@pytest.fixture(scope="module")
def estimators() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ope_estimators", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ope_estimators"] = module
    spec.loader.exec_module(module)
    return module


def test_the_estimators_on_four_rounds_by_hand(estimators: ModuleType) -> None:
    reward = np.array([1.0, 1.0, 0.0, 1.0])
    pscore = np.array([0.5, 0.25, 0.5, 1.0])
    pi_e = np.array([1.0, 0.0, 1.0, 1.0])  # pi_e(a_i | t_i)
    q_hat = np.array([0.6, 0.2, 0.4, 0.8])  # q_hat(a_i)
    pi_e_q = np.array([0.6, 0.5, 0.4, 0.8])  # E_{c ~ pi_e(.|t_i)} q_hat(c)
    # IPS = (1/0.5 + 0 + 0 + 1/1) / 4; SNIPS = 3 / (2 + 0 + 2 + 1)
    assert estimators.ips(reward, pscore, pi_e) == pytest.approx(0.75, abs=1e-15)
    assert estimators.snips(reward, pscore, pi_e) == pytest.approx(0.6, abs=1e-15)
    assert estimators.dm(pi_e_q) == pytest.approx(0.575, abs=1e-15)
    # DR = mean(pi_e_q + w (r - q_hat)) = (0.6 + 2*0.4 + 0.5 + 0 + 0.4 + 2*(-0.4) + 0.8 + 0.2) / 4
    assert estimators.dr(reward, pscore, pi_e, q_hat, pi_e_q) == pytest.approx(0.625, abs=1e-15)
    assert np.isnan(estimators.snips(reward, pscore, np.zeros(4)))


def test_on_the_hand_built_version_ips_is_the_weighted_mean(
    estimators: ModuleType, tmp_path: Path
) -> None:
    write_version(tmp_path)
    data = LoggedData.from_dir(tmp_path)
    result = estimators.evaluate(data, BEST)
    assert result.truth == BEST_VALUE  # policy_values.best of the metadata
    assert result.rows == len(ROWS)
    # rounds where the best creative (c0 of target_aaa, c3 of target_bbb) was shown:
    # c0 r=1, c3 r=1, c3 r=0, c0 r=0, c3 r=1, c3 r=1
    p0, p3 = LOGGING["creative_c0"], LOGGING["creative_c3"]
    assert result.estimates["IPS"] == pytest.approx((1 / p0 + 3 / p3) / 12, rel=1e-14)
    assert result.estimates["SNIPS"] == pytest.approx(
        (1 / p0 + 3 / p3) / (2 / p0 + 4 / p3), rel=1e-14
    )


def test_the_compact_form_equals_obps_dense_form(estimators: ModuleType, tmp_path: Path) -> None:
    write_version(tmp_path)
    data = LoggedData.from_dir(tmp_path)
    feedback = ope.to_obp(data)
    pi_e = ope.policy_probs(data.metadata, BEST)
    compact = estimators.estimates(feedback, data.space, pi_e)
    q_hat = estimators.reward_model(
        feedback["action"], feedback["reward"].astype(float), data.space.store_of
    )
    dist = ope.action_dist(data, BEST)
    dense = np.broadcast_to(q_hat, dist.shape[:2])[:, :, None]
    from_dense = estimators.estimates_from_action_dist(feedback, dist, dense)
    for name in estimators.ESTIMATORS:
        assert compact[name] == pytest.approx(from_dense[name], rel=1e-12), name


def test_the_reward_model_shrinks_rare_creatives_to_their_store(estimators: ModuleType) -> None:
    store_of = np.array([0, 0, 1])
    action = np.array([0] * 90 + [1] * 0 + [2] * 10)
    reward = np.array([1.0] * 45 + [0.0] * 45 + [1.0] * 10)
    q_hat = estimators.reward_model(action, reward, store_of, prior_rows=10)
    assert q_hat[1] == pytest.approx(0.5)  # never shown: its store's rate 45/90
    assert q_hat[0] == pytest.approx((45 + 10 * 0.5) / 100)
    assert q_hat[2] == pytest.approx(1.0)


def test_ips_and_dr_are_unbiased_on_a_large_simulated_log(estimators: ModuleType) -> None:
    # 200,000 rounds drawn from the softmax logging policy of ope_data. The best
    # policy's IPS has per-round variance sum_t p(t) q*_t / pi_b(c*_t|t) - V^2 =
    # 0.4 * 0.26 / 0.731 + 0.6 * 0.51 / 0.506 - 0.41^2 = 0.58, so its std is
    # 0.76 / sqrt(200,000) = 0.0017: the bound is 4 std (DR's and DM's are smaller).
    rng = np.random.default_rng(11)
    ids = list(CREATIVES)
    weights = [(0.4 if CREATIVES[c][0] == "target_aaa" else 0.6) * LOGGING[c] for c in ids]
    n = 200_000
    drawn = rng.choice(len(ids), size=n, p=weights)
    q = np.array([CREATIVES[c][1] for c in ids])
    labels = (rng.random(n) < q[drawn]).astype(int)
    rows = list(zip([ids[i] for i in drawn], labels.tolist(), strict=True))
    frame = table(rows).to_pandas()
    assert isinstance(frame, pd.DataFrame)
    result = estimators.evaluate(LoggedData.from_frame(frame, metadata()), BEST)
    for name in ("IPS", "SNIPS", "DR", "DM"):
        assert abs(result.estimates[name] - BEST_VALUE) < 0.0068, (name, result.estimates)
    table_ = estimators.summary([result, result])
    assert table_["IPS"]["bias"] == pytest.approx(result.estimates["IPS"] - BEST_VALUE)
    assert table_["IPS"]["spread"] == 0.0
