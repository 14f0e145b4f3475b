"""to_obp, action_dist, to_vw and the policies, on a small version built by hand (ope_data)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ope_data import (
    BEST,
    BEST_VALUE,
    CREATIVES,
    LOGGING,
    ROWS,
    STORES,
    UNIFORM_VALUE,
    members,
    metadata,
    softmax_table,
    table,
    value,
    write_version,
)

from exploration_data import ExplorationDataError, LoggedData, ope

N = len(ROWS)
K = len(CREATIVES)
IDS = list(CREATIVES)

# OBP's bandit_feedback contract, as its source documents it (st-tech/zr-obp, 0.5.x):
# obp/dataset/synthetic.py SyntheticBanditDataset.obtain_batch_bandit_feedback returns
# dict(n_rounds, n_actions, context, action_context, action, position=None, reward,
# expected_reward, pi_b=pi_b[:, :, np.newaxis], pscore); obp/dataset/real.py
# OpenBanditDataset.obtain_batch_bandit_feedback documents the first eight keys;
# obp/utils.py check_bandit_feedback_inputs states the shapes (context (n_rounds,
# dim_context), action/reward/pscore (n_rounds,), action_context (n_actions,
# dim_action_context)), that actions are integers in [0, n_actions) and pscore > 0.
# key: (python type, numpy dtype kind or None, shape as a function of n, n_actions, d, d_a)
OBP_CONTRACT: dict[str, tuple[type, str | None, Any]] = {
    "n_rounds": (int, None, None),
    "n_actions": (int, None, None),
    "action": (np.ndarray, "i", lambda n, k, d, da: (n,)),
    "position": (type(None), None, None),
    "reward": (np.ndarray, "i", lambda n, k, d, da: (n,)),
    "pscore": (np.ndarray, "f", lambda n, k, d, da: (n,)),
    "context": (np.ndarray, "f", lambda n, k, d, da: (n, d)),
    "action_context": (np.ndarray, "f", lambda n, k, d, da: (k, da)),
}
OBP_DENSE: dict[str, tuple[type, str | None, Any]] = {
    "expected_reward": (np.ndarray, "f", lambda n, k, d, da: (n, k)),
    "pi_b": (np.ndarray, "f", lambda n, k, d, da: (n, k, 1)),
}


@pytest.fixture
def version_dir(tmp_path: Path) -> Path:
    write_version(tmp_path / "v3")
    return tmp_path / "v3"


def assert_obp_contract(
    feedback: dict[str, Any], contract: dict[str, Any], d: int, da: int
) -> None:
    assert set(feedback) == set(contract)
    n, k = feedback["n_rounds"], feedback["n_actions"]
    for key, (kind, dtype, shape) in contract.items():
        assert type(feedback[key]) is kind, key
        if dtype is not None:
            assert feedback[key].dtype.kind == dtype, key
            assert feedback[key].dtype.itemsize == 8, key  # int64 / float64
            assert feedback[key].shape == shape(n, k, d, da), key
    assert feedback["action"].min() >= 0
    assert feedback["action"].max() < k
    assert (feedback["pscore"] > 0).all()
    try:  # OBP's own checks when it happens to be installed; never a dependency
        from obp.utils import check_bandit_feedback_inputs
    except ImportError:
        return
    check_bandit_feedback_inputs(
        context=feedback["context"],
        action=feedback["action"],
        reward=feedback["reward"],
        expected_reward=feedback.get("expected_reward"),
        position=feedback["position"],
        pscore=feedback["pscore"],
        action_context=feedback["action_context"],
    )


# ------------------------------------------------------------------ to_obp ---


def test_to_obp_has_obps_keys_dtypes_and_shapes(version_dir: Path) -> None:
    feedback = ope.to_obp(version_dir)
    assert_obp_contract(feedback, OBP_CONTRACT, d=3, da=3)
    assert feedback["n_rounds"] == N
    assert feedback["n_actions"] == K


def test_to_obp_dense_adds_expected_reward_and_pi_b(version_dir: Path) -> None:
    feedback = ope.to_obp(version_dir, dense=True)
    assert_obp_contract(feedback, {**OBP_CONTRACT, **OBP_DENSE}, d=3, da=3)
    pi_b, expected = feedback["pi_b"], feedback["expected_reward"]
    np.testing.assert_allclose(pi_b.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    for i, (creative, _) in enumerate(ROWS):
        store = CREATIVES[creative][0]
        for j, c in enumerate(IDS):
            inside = CREATIVES[c][0] == store
            assert expected[i, j] == (CREATIVES[c][1] if inside else 0.0)
            assert pi_b[i, j, 0] == (LOGGING[c] if inside else 0.0)
    rows = np.arange(N)
    assert (pi_b[rows, feedback["action"], 0] == feedback["pscore"]).all()


def test_actions_map_back_to_the_creative_ids(version_dir: Path) -> None:
    feedback = ope.to_obp(version_dir)
    ids = ope.creative_ids(json.loads((version_dir / "metadata_v3.json").read_text()))
    assert ids == IDS
    assert [ids[a] for a in feedback["action"]] == [c for c, _ in ROWS]
    assert feedback["reward"].tolist() == [r for _, r in ROWS]


def test_pscore_is_the_metadatas_logging_probs(version_dir: Path) -> None:
    feedback = ope.to_obp(version_dir)
    assert feedback["pscore"].tolist() == [LOGGING[c] for c, _ in ROWS]
    # and the probabilities per store are the softmax of beta * q (sum to 1)
    for store in ("target_aaa", "target_bbb"):
        assert math.isclose(sum(LOGGING[c] for c in members(store)), 1.0, abs_tol=1e-15)


def test_without_a_logging_policy_pscore_is_one_over_the_store_size(tmp_path: Path) -> None:
    write_version(tmp_path, policy=False)
    feedback = ope.to_obp(tmp_path, dense=True)
    sizes = {"target_aaa": 2, "target_bbb": 3}
    assert feedback["pscore"].tolist() == [1 / sizes[CREATIVES[c][0]] for c, _ in ROWS]
    assert feedback["pi_b"][0, :, 0].tolist() == [0.5, 0.0, 0.5, 0.0, 0.0]


def test_context_choices(version_dir: Path) -> None:
    onehot = ope.to_obp(version_dir)
    stores = [list(STORES).index(CREATIVES[c][0]) for c, _ in ROWS]
    assert onehot["context"].argmax(axis=1).tolist() == stores
    assert onehot["context"].sum(axis=1).tolist() == [1.0] * N
    assert onehot["action_context"].tolist() == [
        [1.0, 0, 0],
        [0, 1.0, 0],
        [1.0, 0, 0],
        [0, 1.0, 0],
        [0, 1.0, 0],
    ]
    compact = ope.to_obp(version_dir, context="store-index", action_context="identity")
    assert compact["context"].shape == (N, 1)
    assert compact["context"][:, 0].tolist() == [float(s) for s in stores]
    assert (compact["action_context"] == np.eye(K)).all()
    index = ope.to_obp(version_dir, action_context="store-index")
    assert index["action_context"][:, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]
    with pytest.raises(ExplorationDataError) as error:
        ope.to_obp(version_dir, context="user")
    assert error.value.field == "context"


def test_the_dense_bound_refuses_with_every_size(version_dir: Path) -> None:
    # context 12 x 3 + action_context 5 x 3 + expected_reward 12 x 5 + pi_b 12 x 5, 8 bytes each
    need = (N * 3 + K * 3 + 2 * N * K) * 8
    assert ope.to_obp(version_dir, dense=True, max_dense_bytes=need)["pi_b"].shape == (N, K, 1)
    with pytest.raises(ExplorationDataError) as error:
        ope.to_obp(version_dir, dense=True, max_dense_bytes=need - 1)
    assert error.value.code == "RESOURCE_EXHAUSTED"
    assert error.value.field == "max_dense_bytes"
    message = error.value.message
    assert "expected_reward (12, 5) float64" in message
    assert "pi_b (12, 5, 1) float64" in message
    assert f"max_dense_bytes={need - 1}" in message
    assert "dense=False" in message
    # without the dense arrays the same bound is enough
    assert "pi_b" not in ope.to_obp(version_dir, max_dense_bytes=need - 1)


def test_sources_agree_folder_shards_frame_and_bytes(tmp_path: Path) -> None:
    meta = write_version(tmp_path / "one")
    write_version(tmp_path / "sharded", shards=3)
    frame = pd.read_parquet(tmp_path / "one" / "dataset_v3.parquet")
    data = (tmp_path / "one" / "dataset_v3.parquet").read_bytes()
    expected = ope.to_obp(tmp_path / "one", dense=True)
    for source in (
        tmp_path / "sharded",
        str(tmp_path / "sharded"),
        (frame, meta),
        LoggedData.from_files([data], meta),
    ):
        got = ope.to_obp(source, dense=True)  # type: ignore[arg-type]
        for key in ("action", "reward", "pscore", "context", "pi_b", "expected_reward"):
            np.testing.assert_array_equal(got[key], expected[key])


def test_a_row_that_contradicts_the_metadata_is_refused(tmp_path: Path) -> None:
    bad = table(ROWS[:3]).to_pandas()
    bad.loc[1, "target_store_id"] = "target_aaa"  # creative_c1 belongs to target_bbb
    with pytest.raises(ExplorationDataError) as error:
        ope.to_obp((bad, metadata()))
    assert error.value.code == "DATA_LOSS"
    assert "row 1 shows creative 'creative_c1' to 'target_aaa'" in error.value.message
    unknown = table(ROWS[:3]).to_pandas()
    unknown.loc[2, "creative_pack_id"] = "creative_zz"
    with pytest.raises(ExplorationDataError, match="row 2's creative_pack_id 'creative_zz'"):
        ope.to_obp((unknown, metadata()))


def test_a_summary_metadata_is_refused_with_what_to_do() -> None:
    summary = {k: v for k, v in metadata().items() if k != "pair_probs"}
    summary["omitted"] = ["pair_probs", "creative_pack_target"]
    with pytest.raises(ExplorationDataError, match="omits pair_probs"):
        ope.to_obp((table(ROWS).to_pandas(), summary))


# ------------------------------------------------------------- action_dist ---


def test_action_dist_shape_rows_sum_to_one_and_best_is_argmax(version_dir: Path) -> None:
    best = ope.action_dist(version_dir, {"type": "epsilon-greedy", "epsilon": 0})
    assert best.shape == (N, K, 1)
    assert best.dtype == np.float64
    np.testing.assert_allclose(best.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    for i, (creative, _) in enumerate(ROWS):
        store = CREATIVES[creative][0]
        assert best[i, :, 0].tolist() == [BEST[c] if CREATIVES[c][0] == store else 0.0 for c in IDS]


def test_action_dist_of_each_named_form(version_dir: Path) -> None:
    uniform = ope.action_dist(version_dir, {"type": "uniform"})
    assert uniform[0, :, 0].tolist() == [0.5, 0, 0.5, 0, 0]
    assert uniform[1, :, 0].tolist() == pytest.approx([0, 1 / 3, 0, 1 / 3, 1 / 3], abs=1e-15)
    soft = ope.action_dist(version_dir, {"type": "softmax", "beta": 20})
    hand = softmax_table(20.0)
    assert soft[1, :, 0].tolist() == pytest.approx(
        [0, hand["creative_c1"], 0, hand["creative_c3"], hand["creative_c4"]], abs=1e-15
    )
    eps = ope.action_dist(version_dir, {"type": "epsilon-greedy", "epsilon": 0.3})
    assert eps[1, :, 0].tolist() == pytest.approx([0, 0.1, 0, 0.8, 0.1], abs=1e-15)
    # a very negative beta prefers bad creatives without overflowing
    worst = ope.policy_probs(metadata(), {"type": "softmax", "beta": -1e6})
    assert worst.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]


def test_a_probs_table_and_the_stores_it_leaves_out(version_dir: Path) -> None:
    meta = metadata()
    probs = ope.policy_probs(meta, {"probs": {"creative_c0": 0.25, "creative_c2": 0.75}})
    # target_bbb is not named: it follows the logging policy (softmax beta 50)
    assert probs.tolist() == [
        0.25,
        LOGGING["creative_c1"],
        0.75,
        LOGGING["creative_c3"],
        LOGGING["creative_c4"],
    ]
    # named creatives of a store sum to 1, the others of that store get 0
    partial = ope.policy_probs(meta, {"probs": {"creative_c3": 1}})
    assert partial.tolist()[1:5:] == [0.0, LOGGING["creative_c2"], 1.0, 0.0]
    dist = ope.action_dist(version_dir, {"probs": {"creative_c3": 1}})
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # without a logging policy the unnamed stores are uniform
    plain = ope.policy_probs(metadata(policy=False), {"probs": {"creative_c3": 1}})
    assert plain.tolist() == [0.5, 0.0, 0.5, 1.0, 0.0]


@pytest.mark.parametrize(
    ("policy", "field", "words"),
    [
        ("softmax", "policy", "policy must be an object"),
        ({"type": "thompson"}, "policy.type", "got 'thompson'"),
        ({"type": "softmax"}, "policy.beta", "got None"),
        ({"type": "softmax", "beta": math.inf}, "policy.beta", "finite"),
        ({"type": "softmax", "beta": 2e6}, "policy.beta", "|beta| <= 1e+06"),
        ({"type": "softmax", "beta": True}, "policy.beta", "got True"),
        ({"type": "epsilon-greedy", "epsilon": 1.5}, "policy.epsilon", "[0, 1], got 1.5"),
        ({"type": "softmax", "beta": 1, "scoreNoise": -1}, "policy.scoreNoise", ">= 0, got -1"),
        ({"type": "uniform", "beta": 1}, "policy.beta", "not a member of a uniform"),
        (
            {"type": "softmax", "beta": 1, "adaptive": {"updateEveryBlocks": 1}},
            "policy.adaptive",
            "adaptive",
        ),
        ({"probs": {"creative_zz": 1}}, "policy.probs", "'creative_zz'"),
        ({"probs": {"creative_c0": -0.5, "creative_c2": 1.5}}, "policy.probs", "'creative_c0'"),
        (
            {"probs": {"creative_c0": 0.5, "creative_c2": 0.4}},
            "policy.probs",
            "'target_aaa' sum to 0.9",
        ),
        ({"probs": {"creative_c0": 1}, "type": "uniform"}, "policy.type", "not a member"),
    ],
)
def test_bad_policies_name_the_field(policy: Any, field: str, words: str) -> None:
    with pytest.raises(ExplorationDataError) as error:
        ope.policy_probs(metadata(), policy)
    assert error.value.code == "INVALID_ARGUMENT"
    assert error.value.field == field
    assert words in error.value.message


def test_score_noise_needs_the_services_draw_unless_it_is_the_logging_policy() -> None:
    noisy = {"type": "softmax", "beta": 50, "scoreNoise": 0.01}
    with pytest.raises(ExplorationDataError) as error:
        ope.policy_probs(metadata(), noisy)
    assert error.value.code == "FAILED_PRECONDITION"
    assert "Client.policy_value" in error.value.message
    meta = metadata()
    meta["logging_policy"] = {"type": "softmax", "beta": 50, "scoreNoise": 0.01}
    assert ope.policy_probs(meta, noisy).tolist() == [LOGGING[c] for c in IDS]


def test_action_dist_memory_bound(version_dir: Path) -> None:
    with pytest.raises(ExplorationDataError) as error:
        ope.action_dist(version_dir, {"type": "uniform"}, max_dense_bytes=N * K * 8 - 1)
    assert error.value.code == "RESOURCE_EXHAUSTED"
    assert "action_dist (12, 5, 1) float64" in error.value.message
    assert "policy_probs(metadata, policy)[action]" in error.value.message


def test_true_values_match_the_hand_computed_ones() -> None:
    meta = metadata()
    assert ope.true_value(meta, {"type": "uniform"}) == pytest.approx(UNIFORM_VALUE, abs=1e-15)
    assert ope.true_value(meta, {"type": "epsilon-greedy", "epsilon": 0}) == pytest.approx(
        BEST_VALUE, abs=1e-15
    )
    assert ope.true_value(meta, {"type": "softmax", "beta": 50}) == pytest.approx(
        meta["policy_values"]["logging"], abs=1e-15
    )
    assert ope.true_value(meta, {"probs": dict(BEST)}) == pytest.approx(value(BEST), abs=1e-15)


# ------------------------------------------------------------------- to_vw ---


def test_to_vw_writes_one_cb_adf_example_per_round(version_dir: Path, tmp_path: Path) -> None:
    path = ope.to_vw(version_dir, tmp_path / "out.vw")
    text = path.read_text()
    examples = text.split("\n\n")
    assert examples[-1] == ""  # the file ends with the last example's blank line
    assert len(examples) - 1 == N
    lines = text.splitlines()
    sizes = {"target_aaa": 2, "target_bbb": 3}
    assert len(lines) == sum(1 + sizes[CREATIVES[c][0]] + 1 for c, _ in ROWS)
    assert sum(line.startswith("shared |s target=") for line in lines) == N
    assert sum(line.startswith("0:") for line in lines) == N
    # the third round: creative_c3 of target_bbb, label 1 -> cost -1
    assert examples[2] == (
        "shared |s target=target_bbb\n"
        "|a creative=creative_c1\n"
        f"0:-1:{LOGGING['creative_c3']!r} |a creative=creative_c3\n"
        "|a creative=creative_c4"
    )
    # the fourth: creative_c2 of target_aaa, label 0 -> cost 0
    assert examples[3] == (
        "shared |s target=target_aaa\n"
        "|a creative=creative_c0\n"
        f"0:0:{LOGGING['creative_c2']!r} |a creative=creative_c2"
    )


def test_to_vw_is_the_same_in_small_chunks_and_replaces_the_file(
    version_dir: Path, tmp_path: Path
) -> None:
    whole = ope.to_vw(version_dir, tmp_path / "a.vw").read_bytes()
    (tmp_path / "b.vw").write_text("old")
    chunked = ope.to_vw(version_dir, tmp_path / "b.vw", rows=5).read_bytes()
    assert chunked == whole
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith("partial")) == []


def test_to_vw_without_a_policy_uses_one_over_the_store_size(tmp_path: Path) -> None:
    write_version(tmp_path / "plain", policy=False)
    text = ope.to_vw(tmp_path / "plain", tmp_path / "plain.vw").read_text()
    assert text.startswith(
        "shared |s target=target_aaa\n0:-1:0.5 |a creative=creative_c0\n|a creative=creative_c2\n\n"
    )


# ---------------------------------------------------------------- adaptive ---

BLOCK = 65_536


def adaptive_log(tmp_path: Path, epsilon: float) -> tuple[Path, dict[str, Any]]:
    """Three epochs (k = 1: 65,536, 65,536 and 1,000 rows), epsilon-greedy over posterior means.

    Rows are drawn here with numpy's own generator; each epoch's probabilities are
    computed with per-store Python loops from the counts of the earlier epochs.
    """
    rng = np.random.default_rng(5)
    counts = {c: [0, 0] for c in IDS}  # rows, positives of earlier epochs
    creatives: list[str] = []
    labels: list[int] = []
    pscores: list[float] = []
    epochs: list[int] = []
    for epoch, n in enumerate((BLOCK, BLOCK, 1000)):
        probs: dict[str, float] = {}
        for store in ("target_aaa", "target_bbb"):
            names = members(store)
            means = [(1 + counts[c][1]) / (2 + counts[c][0]) for c in names]
            top = names[means.index(max(means))]  # lowest index on ties
            for c in names:
                probs[c] = (1 - epsilon) * (c == top) + epsilon / len(names)
        weights = [
            0.4 * probs[c] if CREATIVES[c][0] == "target_aaa" else 0.6 * probs[c] for c in IDS
        ]
        drawn = [IDS[i] for i in rng.choice(K, size=n, p=weights)]
        drawn_labels = (rng.random(n) < [CREATIVES[c][1] for c in drawn]).astype(int).tolist()
        for c, label in zip(drawn, drawn_labels, strict=True):
            counts[c][0] += 1
            counts[c][1] += label
        creatives += drawn
        labels += drawn_labels
        pscores += [probs[c] for c in drawn]
        epochs += [epoch] * n
    meta = metadata()
    meta["logging_policy"] = {
        "type": "epsilon-greedy",
        "epsilon": epsilon,
        "scoreNoise": 0,
        "adaptive": {"updateEveryBlocks": 1},
    }
    del meta["logging_probs"]
    tbl = table(list(zip(creatives, labels, strict=True)), pscore=False)
    tbl = tbl.append_column("pscore", pa.array(pscores, pa.float64()))
    tbl = tbl.append_column("policy_epoch", pa.array(epochs, pa.int64()))
    folder = tmp_path / "adaptive"
    folder.mkdir()
    pq.write_table(tbl, folder / "dataset_v3.parquet")
    (folder / "metadata_v3.json").write_text(json.dumps(meta))
    return folder, meta


def test_an_adaptive_logs_pi_b_is_recomputed_per_epoch(tmp_path: Path) -> None:
    folder, _ = adaptive_log(tmp_path, epsilon=0.2)
    feedback = ope.to_obp(folder, dense=True, context="store-index")
    n = 2 * BLOCK + 1000
    assert feedback["pi_b"].shape == (n, K, 1)
    rows = np.arange(n)
    assert (feedback["pi_b"][rows, feedback["action"], 0] == feedback["pscore"]).all()
    np.testing.assert_allclose(feedback["pi_b"].sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # epoch 0: every posterior mean is 0.5, so each store's lowest index is greedy
    stores = feedback["context"][:, 0]
    first_aaa, first_bbb = int(np.argmax(stores == 0)), int(np.argmax(stores == 1))
    assert feedback["pi_b"][first_aaa, :, 0].tolist() == pytest.approx([0.9, 0, 0.1, 0, 0])
    third = 0.2 / 3
    assert feedback["pi_b"][first_bbb, :, 0].tolist() == pytest.approx(
        [0, 0.8 + third, 0, third, third]
    )
    # in the last epoch too, one creative of the store has 1 - e + e/|C_t|
    last = int(np.flatnonzero(stores == 1)[-1])
    assert feedback["pi_b"][last, :, 0].max() == pytest.approx(0.8 + third)


def test_an_adaptive_log_with_a_wrong_pscore_is_refused(tmp_path: Path) -> None:
    folder, meta = adaptive_log(tmp_path, epsilon=0.2)
    tbl = pq.read_table(folder / "dataset_v3.parquet")
    scaled = tbl.set_column(3, "pscore", pa.array(np.asarray(tbl.column("pscore")) * 0.9))
    pq.write_table(scaled, folder / "dataset_v3.parquet")
    with pytest.raises(ExplorationDataError) as error:
        ope.to_obp(folder, dense=True, context="store-index")
    assert error.value.code == "DATA_LOSS"
    assert "epoch 0's policy recomputed" in error.value.message
    assert ope.to_obp(folder, context="store-index")["pscore"].shape == (2 * BLOCK + 1000,)
    assert meta["logging_policy"]["adaptive"] == {"updateEveryBlocks": 1}


def test_fewer_rounds_than_stores_build_the_same_rows(version_dir: Path) -> None:
    # 2 rounds, 3 stores: the row-by-row path instead of the gather from the store table
    few = ope.to_obp((table(ROWS[:2]).to_pandas(), metadata()), dense=True)
    many = ope.to_obp(version_dir, dense=True)
    for key in ("context", "expected_reward", "pi_b"):
        np.testing.assert_array_equal(few[key], many[key][:2])
    dist = ope.action_dist((table(ROWS[:2]).to_pandas(), metadata()), {"type": "uniform"})
    assert dist[:, :, 0].tolist() == [
        [0.5, 0, 0.5, 0, 0],
        pytest.approx([0, 1 / 3, 0, 1 / 3, 1 / 3]),
    ]
