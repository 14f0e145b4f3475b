"""Off-policy evaluation exports (docs/design.md §12): OBP's bandit_feedback, action_dist, VW.

Each function takes a source: a folder that ``Client.download`` or the CLI filled, a
``(DataFrame, metadata)`` pair, or ``LoggedData``; the ``Client`` methods of the same
names download a version and call them. Open Bandit Pipeline is not needed: the dict
has its documented keys, shapes and dtypes (``obp.dataset.SyntheticBanditDataset.
obtain_batch_bandit_feedback``, ``OpenBanditDataset``), the arrays are plain numpy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ExplorationDataError
from .logged import BATCH_ROWS, Batch, LoggedData, Source, logged_data
from .policies import (
    ActionSpace,
    Floats,
    Ints,
    epsilon_greedy_probs,
    policy_probs,
    probs_in_space,
    resolve_policy,
    softmax_probs,
    true_value,
)

__all__ = [
    "DEFAULT_MAX_DENSE_BYTES",
    "LoggedData",
    "action_dist",
    "adaptive_epochs",
    "creative_ids",
    "policy_probs",
    "resolve_policy",
    "store_ids",
    "to_obp",
    "to_vw",
    "true_value",
]

# 2 GiB: the dense arrays of 1M rounds x 100 actions (expected_reward and pi_b,
# 800 MB each) fit; 10M x 100 (8 GB each) is refused.
DEFAULT_MAX_DENSE_BYTES = 2**31
CONTEXTS = ("store-onehot", "store-index")
ACTION_CONTEXTS = ("store-onehot", "identity", "store-index")
BLOCK_ROWS = 65_536  # the generator's block: an adaptive policy's epochs are whole blocks
_F64 = 8


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**28 else f"{n / 2**20:.1f} MiB"


def _check_bound(arrays: Mapping[str, tuple[str, int]], bound: int, hint: str) -> None:
    total = sum(size for _, size in arrays.values())
    if total > bound:
        parts = ", ".join(
            f"{name} {shape} float64 = {_gib(size)}" for name, (shape, size) in arrays.items()
        )
        raise ExplorationDataError(
            f"the dense arrays would take {_gib(total)} ({parts}), past "
            f"max_dense_bytes={bound} ({_gib(bound)}); {hint}",
            code="RESOURCE_EXHAUSTED",
            field="max_dense_bytes",
        )


def _by_store(space: ActionSpace, stores: Ints, values: Floats) -> Floats:
    """(n, n_actions): row i is ``values`` on round i's candidates C_t, 0 elsewhere.

    A gather of whole rows from the (n_stores, n_actions) table of the stores'
    rows: contiguous copies, 0.3 s at 1M x 100 here where scattering the
    n x |C_t| entries with 2-D fancy indexing took 5 s.
    """
    n, k = len(stores), space.n_actions
    if space.n_stores <= n:
        table = np.zeros((space.n_stores, k), dtype=np.float64)
        table[space.store_of, np.arange(k)] = values
        out: Floats = table[stores]
        return out
    out = np.zeros((n, k), dtype=np.float64)  # fewer rounds than stores: row by row
    members = space.members()
    for i, t in enumerate(stores.tolist()):
        out[i, members[t]] = values[members[t]]
    return out


# ------------------------------------------------------------------ to_obp --


def to_obp(
    source: Source,
    *,
    dense: bool = False,
    context: str = "store-onehot",
    action_context: str = "store-onehot",
    max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES,
) -> dict[str, Any]:
    """Open Bandit Pipeline's ``bandit_feedback`` dict of a version's rows.

    Keys (OBP's): ``n_rounds`` int, ``n_actions`` int, ``action`` (n,) int64 (the
    creative's index in the metadata's creative order, ``creative_ids(metadata)``),
    ``reward`` (n,) int64 (the label), ``pscore`` (n,) float64, ``context`` (n, d)
    float64, ``action_context`` (n_actions, d_a) float64, ``position`` None; with
    ``dense=True`` also ``expected_reward`` (n, n_actions) float64 (q_c on the round's
    candidates C_t, 0 on creatives of other stores, which that store is never shown)
    and ``pi_b`` (n, n_actions, 1) float64 (the logging policy in force for the round).

    ``pscore`` is the ``pscore`` column when the version has a logging policy; a
    version without one drew each row's creative uniformly, so given its store t
    the propensity is 1/|C_t|, computed from the metadata.

    Args:
        source: a downloaded folder, ``(DataFrame, metadata)`` or ``LoggedData``.
        dense: add ``expected_reward`` and ``pi_b``.
        context: ``"store-onehot"`` (n, nTargetStoreIds): one-hot of the round's
            target store, the whole context of the model (q depends on the round
            only through its store), as OBP's estimators and regression models
            expect a feature matrix; ``"store-index"`` (n, 1): the store's index,
            8 bytes a round whatever the store count (for tree models, or past the
            memory bound: 10M rounds x 10 stores one-hot take 800 MB).
        action_context: ``"store-onehot"`` (n_actions, nTargetStoreIds): one-hot of
            the creative's store m(c); ``"identity"`` (n_actions, n_actions): OBP's
            synthetic default ``np.eye``; ``"store-index"`` (n_actions, 1).
        max_dense_bytes: refuse when context, action_context, expected_reward and
            pi_b together would take more (default 2 GiB).

    Raises:
        ExplorationDataError: ``RESOURCE_EXHAUSTED`` (field ``max_dense_bytes``)
            naming each array's size when they do not fit; ``FAILED_PRECONDITION``
            for pi_b of an adaptive log with scoreNoise > 0.
    """
    data = logged_data(source)
    space = data.space
    if context not in CONTEXTS:
        raise ExplorationDataError(
            f"context must be one of {', '.join(CONTEXTS)}, got {context!r}",
            code="INVALID_ARGUMENT",
            field="context",
        )
    if action_context not in ACTION_CONTEXTS:
        raise ExplorationDataError(
            f"action_context must be one of {', '.join(ACTION_CONTEXTS)}, got {action_context!r}",
            code="INVALID_ARGUMENT",
            field="action_context",
        )
    n, k, s = data.n_rounds, space.n_actions, space.n_stores
    width = s if context == "store-onehot" else 1
    action_width = {"store-onehot": s, "identity": k, "store-index": 1}[action_context]
    plan = {
        "context": (f"({n}, {width})", n * width * _F64),
        "action_context": (f"({k}, {action_width})", k * action_width * _F64),
    }
    if dense:
        plan["expected_reward"] = (f"({n}, {k})", n * k * _F64)
        plan["pi_b"] = (f"({n}, {k}, 1)", n * k * _F64)
    _check_bound(
        plan,
        max_dense_bytes,
        "pass dense=False (OBP's estimators need only action, reward, pscore and your "
        "action_dist), context='store-index', fewer rows, or a larger max_dense_bytes",
    )

    action = np.empty(n, dtype=np.int64)
    reward = np.empty(n, dtype=np.int64)
    pscore = np.empty(n, dtype=np.float64)
    stores = np.empty(n, dtype=np.int64)
    epochs: Ints | None = None
    start = 0
    for batch in data.batches():
        end = start + len(batch)
        action[start:end] = batch.actions
        reward[start:end] = batch.rewards
        pscore[start:end] = batch.pscores
        stores[start:end] = batch.stores
        if batch.epochs is not None:
            if epochs is None:
                epochs = np.zeros(n, dtype=np.int64)
            epochs[start:end] = batch.epochs
        start = end
    if start != n:
        raise ExplorationDataError(
            f"read {start} rows where the files' footers say {n}", code="DATA_LOSS"
        )

    if context == "store-onehot":
        context_array = np.eye(s, dtype=np.float64)[stores] if s <= n else _one_hot(stores, s)
    else:
        context_array = stores.astype(np.float64).reshape(n, 1)
    if action_context == "store-onehot":
        action_array = np.zeros((k, s), dtype=np.float64)
        action_array[np.arange(k), space.store_of] = 1.0
    elif action_context == "identity":
        action_array = np.eye(k, dtype=np.float64)
    else:
        action_array = space.store_of.astype(np.float64).reshape(k, 1)

    feedback: dict[str, Any] = {
        "n_rounds": int(n),
        "n_actions": int(k),
        "action": action,
        "position": None,
        "reward": reward,
        "pscore": pscore,
        "context": context_array,
        "action_context": action_array,
    }
    if dense:
        feedback["expected_reward"] = _by_store(space, stores, space.q)
        feedback["pi_b"] = _logging_pi_b(data, stores, action, reward, pscore, epochs)
    return feedback


def _one_hot(stores: Ints, width: int) -> Floats:
    out = np.zeros((len(stores), width), dtype=np.float64)
    out[np.arange(len(stores)), stores] = 1.0
    return out


def _logging_pi_b(
    data: LoggedData,
    stores: Ints,
    action: Ints,
    reward: Ints,
    pscore: Floats,
    epochs: Ints | None,
) -> Floats:
    space = data.space
    n, k = len(stores), space.n_actions
    fixed = data.logging
    if fixed is not None:
        return _by_store(space, stores, fixed).reshape(n, k, 1)
    pi_b = np.empty((n, k), dtype=np.float64)
    for e, probs, rows in adaptive_epochs(data.metadata, space, action, reward, epochs):
        pi_b[rows[0] : rows[-1] + 1] = _by_store(space, stores[rows], probs)
        # The recomputed policy must give each row its logged propensity.
        off = np.flatnonzero(np.abs(probs[action[rows]] - pscore[rows]) > 1e-9)
        if len(off):
            i = int(rows[off[0]])
            raise ExplorationDataError(
                f"epoch {e}'s policy recomputed from the earlier blocks gives row {i} "
                f"probability {probs[action[i]]!r}, but its pscore is {pscore[i]!r}",
                code="DATA_LOSS",
            )
    return pi_b.reshape(n, k, 1)


def adaptive_epochs(
    metadata: Mapping[str, Any],
    space: ActionSpace,
    action: Ints,
    reward: Ints,
    epochs: Ints | None,
) -> list[tuple[int, Floats, Ints]]:
    """(epoch, pi_e per creative, row indices) of an adaptive log, recomputed from its rows.

    Epoch e scores each creative by the posterior mean (1 + positives) / (2 + rows)
    of its labels in the rows of earlier epochs (Beta(1, 1) prior), then applies the
    policy (docs/design.md §12). A policy with scoreNoise > 0 needs the service's
    noise draw and is refused.
    """
    policy = metadata.get("logging_policy")
    if not isinstance(policy, Mapping) or "adaptive" not in policy:
        raise ExplorationDataError("the logging policy is not adaptive", code="FAILED_PRECONDITION")
    if float(policy.get("scoreNoise") or 0) > 0:
        raise ExplorationDataError(
            "pi_b of an adaptive policy with scoreNoise > 0 needs the service's per-creative "
            "noise draw, which the metadata does not hold: use dense=False (pscore is exact)",
            code="FAILED_PRECONDITION",
            field="dense",
        )
    if epochs is None:
        raise ExplorationDataError(
            "an adaptive log without its policy_epoch column", code="DATA_LOSS"
        )
    out: list[tuple[int, Floats, Ints]] = []
    shown = np.zeros(space.n_actions, dtype=np.float64)
    positives = np.zeros(space.n_actions, dtype=np.float64)
    changes = np.flatnonzero(np.diff(epochs)) + 1
    for rows_slice in np.split(np.arange(len(epochs)), changes):
        if len(rows_slice) == 0:
            continue
        e = int(epochs[rows_slice[0]])
        scores = (1.0 + positives) / (2.0 + shown)
        if policy.get("type") == "softmax":
            probs = softmax_probs(space, scores, float(policy["beta"]))
        else:
            probs = epsilon_greedy_probs(space, scores, float(policy["epsilon"]))
        out.append((e, probs, rows_slice.astype(np.int64)))
        shown += np.bincount(action[rows_slice], minlength=space.n_actions)
        positives += np.bincount(
            action[rows_slice], weights=reward[rows_slice], minlength=space.n_actions
        )
    return out


# ------------------------------------------------------------- action_dist --


def action_dist(
    source: Source, policy: Any, *, max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES
) -> Floats:
    """The evaluation policy per round, OBP's ``action_dist``: (n_rounds, n_actions, 1) float64.

    Row i is ``policy`` over round i's candidates C_t (0 elsewhere; each row sums to
    1). ``policy`` is a named form or ``{"probs": ...}`` as ``POST /evaluatePolicy``
    takes it, computed from the metadata (``policy_probs``): q_c are the scores, so
    ``{"type": "epsilon-greedy", "epsilon": 0}`` is the best policy. ``scoreNoise`` > 0
    is refused unless it is the version's own logging policy (see ``policy_probs``).

    Raises:
        ExplorationDataError: ``INVALID_ARGUMENT`` for a bad policy (field as the
            service names it); ``RESOURCE_EXHAUSTED`` past ``max_dense_bytes``
            (default 2 GiB): then use ``policy_probs(metadata, policy)[action]``,
            the only entries IPS/SNIPS read, or fewer rounds.
    """
    data = logged_data(source)
    space = data.space
    probs = probs_in_space(space, data.metadata, policy)
    n, k = data.n_rounds, space.n_actions
    _check_bound(
        {"action_dist": (f"({n}, {k}, 1)", n * k * _F64)},
        max_dense_bytes,
        "IPS and SNIPS need only pi_e(a_i|t_i) = policy_probs(metadata, policy)[action] "
        "(n,); DM needs policy_probs per creative: no dense array at all",
    )
    stores = np.empty(n, dtype=np.int64)
    start = 0
    for batch in data.batches(labels=False):
        stores[start : start + len(batch.stores)] = batch.stores
        start += len(batch.stores)
    return _by_store(space, stores, probs).reshape(n, k, 1)


# ------------------------------------------------------------------- to_vw --


def to_vw(source: Source, path: str | os.PathLike[str], *, rows: int = BATCH_ROWS) -> Path:
    """Vowpal Wabbit ``cb_adf`` text of the rows, streamed to ``path`` (replaced if present).

    One multi-line example per round: ``shared |s target=<store id>``, then one line
    per creative of the round's store (its candidates C_t, in creative order),
    ``|a creative=<id>``, the shown one labelled ``0:<cost>:<pscore> |a creative=<id>``
    with cost = -reward (VW minimises cost), then an empty line. For
    ``vw --cb_adf`` / ``--cb_explore_adf``. Written ``rows`` rounds at a time.

    Returns:
        ``path``.
    """
    data = logged_data(source)
    space = data.space
    members = space.members()
    shared = [f"shared |s target={sid}\n" for sid in space.store_ids]
    blocks: list[str] = []
    for creatives in members:
        blocks.append("".join(f"|a creative={space.creative_ids[c]}\n" for c in creatives))
    # Where each creative's line starts in its store's block.
    starts = np.zeros(space.n_actions, dtype=np.int64)
    for creatives in members:
        offset = 0
        for c in creatives:
            starts[c] = offset
            offset += len(space.creative_ids[c]) + len("|a creative=\n")

    target = Path(path).expanduser()
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as out:
            for batch in data.batches(rows):
                out.write(_vw_examples(batch, space, shared, blocks, starts))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _vw_examples(
    batch: Batch, space: ActionSpace, shared: list[str], blocks: list[str], starts: Ints
) -> str:
    """The text of a batch's examples: the store's block with the shown line labelled."""
    values, inverse = np.unique(batch.pscores, return_inverse=True)
    probabilities = [repr(float(v)) for v in values]
    costs = {int(r): str(-int(r)) for r in np.unique(batch.rewards)}
    store_of = space.store_of.tolist()
    start_of = starts.tolist()
    parts = []
    for a, r, p in zip(
        batch.actions.tolist(), batch.rewards.tolist(), inverse.tolist(), strict=True
    ):
        block, at = blocks[store_of[a]], start_of[a]
        parts.append(
            f"{shared[store_of[a]]}{block[:at]}0:{costs[r]}:{probabilities[p]} {block[at:]}\n"
        )
    return "".join(parts)


def creative_ids(metadata: Mapping[str, Any]) -> list[str]:
    """Action index -> creative id: the order of ``to_obp``'s ``action`` and ``action_dist``."""
    return list(ActionSpace.from_metadata(metadata).creative_ids)


def store_ids(metadata: Mapping[str, Any]) -> list[str]:
    """Context index -> target store id: the columns of the one-hot ``context``."""
    return list(ActionSpace.from_metadata(metadata).store_ids)
