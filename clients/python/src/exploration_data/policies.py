"""Policies over a version's creatives, from its metadata alone (docs/design.md §12).

A round is a target store t (the context) and a creative c of C_t = {c : m(c) = t}
(the action). Every creative belongs to exactly one store, so a policy is fully
given by one number per creative, ``pi(c | m(c))``: the arrays here are of
length n_actions, in the metadata's creative order (the keys of ``pair_probs``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import ExplorationDataError

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

POLICY_TYPES = ("uniform", "softmax", "epsilon-greedy")
MAX_ABS_BETA = 1e6
PROBS_SUM_TOLERANCE = 1e-9
_MEMBERS = {
    "uniform": {"type"},
    "softmax": {"type", "beta", "scoreNoise"},
    "epsilon-greedy": {"type", "epsilon", "scoreNoise"},
}


def _bad(message: str, field: str) -> ExplorationDataError:
    return ExplorationDataError(message, code="INVALID_ARGUMENT", field=field)


@dataclass(frozen=True)
class ActionSpace:
    """The creatives (actions) and stores (contexts) of a version, in index order.

    Attributes:
        creative_ids: action index -> creative id (the keys of ``pair_probs``).
        store_ids: context index -> target store id (the keys of ``target_store_id_probs``).
        store_of: (n_actions,) int64, the store index m(c) of each creative.
        q: (n_actions,) float64, the true install probability q_c.
        store_sizes: (n_stores,) int64, |C_t| (0 for a store without creatives).
    """

    creative_ids: tuple[str, ...]
    store_ids: tuple[str, ...]
    store_of: Ints
    q: Floats
    store_sizes: Ints

    @property
    def n_actions(self) -> int:
        """The number of creatives."""
        return len(self.creative_ids)

    @property
    def n_stores(self) -> int:
        """The number of target stores."""
        return len(self.store_ids)

    @property
    def store_weights(self) -> Floats:
        """p(t) = |C_t| / nCreativePackIds, the stores' share of the rounds."""
        weights: Floats = self.store_sizes.astype(np.float64) / self.n_actions
        return weights

    def members(self) -> list[Ints]:
        """For each store, its creatives' indices in ascending order."""
        order = np.argsort(self.store_of, kind="stable")
        bounds = np.cumsum(self.store_sizes)[:-1]
        return [part.astype(np.int64) for part in np.split(order, bounds)]

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ActionSpace:
        """The action space of a metadata object (``metadata_v{N}.json``)."""
        omitted = metadata.get("omitted")
        if omitted:
            raise ExplorationDataError(
                f"this metadata omits {', '.join(map(str, omitted))} (loadMetadata's summary "
                "of a large version): read the full metadata_v{N}.json (its url), as "
                "Client.to_obp does",
                code="FAILED_PRECONDITION",
            )
        pairs = _mapping(metadata, "pair_probs")
        targets = _mapping(metadata, "creative_pack_target")
        stores = _mapping(metadata, "target_store_id_probs")
        store_ids = tuple(stores)
        index_of_store = {s: i for i, s in enumerate(store_ids)}
        creative_ids = tuple(pairs)
        store_of = np.empty(len(creative_ids), dtype=np.int64)
        for i, c in enumerate(creative_ids):
            target = targets.get(c)
            if target not in index_of_store:
                raise ExplorationDataError(
                    f"metadata's creative_pack_target[{c!r}] is {target!r}, not a target store "
                    "of target_store_id_probs",
                    code="DATA_LOSS",
                )
            store_of[i] = index_of_store[target]
        q = np.fromiter((float(pairs[c]) for c in creative_ids), np.float64, len(creative_ids))
        sizes = np.bincount(store_of, minlength=len(store_ids)).astype(np.int64)
        return cls(creative_ids, store_ids, store_of, q, sizes)


def _mapping(metadata: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = metadata.get(key)
    if not isinstance(value, Mapping) or not value:
        raise ExplorationDataError(
            f"metadata has no {key} object (is this a metadata_v{{N}}.json?)",
            code="FAILED_PRECONDITION",
        )
    return value


# ------------------------------------------------------------ named forms --


def _number(policy: Mapping[str, Any], key: str) -> float | None:
    value = policy.get(key)
    if value is None and key not in policy:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return math.nan
    return float(value)


def resolve_policy(policy: Any) -> dict[str, Any]:
    """A named policy with every parameter explicit, checked as the service checks it.

    ``{"type": "uniform"}``, ``{"type": "softmax", "beta": b, "scoreNoise"?: s}`` or
    ``{"type": "epsilon-greedy", "epsilon": e, "scoreNoise"?: s}``; ``scoreNoise``
    defaults to 0. ``adaptive`` is refused (it has no fixed distribution).

    Raises:
        ExplorationDataError: ``INVALID_ARGUMENT`` with ``field`` the JSON path
            (``policy.type``, ``policy.beta``, ...), as ``POST /evaluatePolicy`` says it.
    """
    if not isinstance(policy, Mapping):
        raise _bad(f"policy must be an object, got {policy!r}", "policy")
    kind = policy.get("type")
    if kind not in _MEMBERS:
        raise _bad(
            f"policy.type must be one of {', '.join(POLICY_TYPES)}, got {kind!r}", "policy.type"
        )
    for member in policy:
        if member == "adaptive":
            raise _bad(
                "policy.adaptive: an adaptive policy changes with the data and has no fixed "
                "distribution to evaluate; name a non-adaptive one",
                "policy.adaptive",
            )
        if member not in _MEMBERS[kind]:
            raise _bad(f"policy.{member} is not a member of a {kind} policy", f"policy.{member}")
    if kind == "uniform":
        return {"type": "uniform"}
    resolved: dict[str, Any] = {"type": kind}
    if kind == "softmax":
        beta = _number(policy, "beta")
        if beta is None or math.isnan(beta) or abs(beta) > MAX_ABS_BETA:
            raise _bad(
                f"policy.beta must be a finite number with |beta| <= {MAX_ABS_BETA:g}, "
                f"got {policy.get('beta')!r}",
                "policy.beta",
            )
        resolved["beta"] = beta
    else:
        epsilon = _number(policy, "epsilon")
        if epsilon is None or math.isnan(epsilon) or not 0 <= epsilon <= 1:
            raise _bad(
                f"policy.epsilon must be a number in [0, 1], got {policy.get('epsilon')!r}",
                "policy.epsilon",
            )
        resolved["epsilon"] = epsilon
    noise = _number(policy, "scoreNoise")
    if noise is not None and (math.isnan(noise) or noise < 0):
        raise _bad(
            f"policy.scoreNoise must be a finite number >= 0, got {policy.get('scoreNoise')!r}",
            "policy.scoreNoise",
        )
    resolved["scoreNoise"] = noise or 0.0
    return resolved


def _same_policy(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = set(a) | set(b)
    return all(a.get(k) == b.get(k) if k == "type" else _close(a.get(k), b.get(k)) for k in keys)


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, int | float) and isinstance(y, int | float):
        return float(x) == float(y)
    return bool(x == y)


def _store_extreme(space: ActionSpace, scores: Floats, highest: bool) -> Floats:
    ref = np.full(space.n_stores, -np.inf if highest else np.inf)
    (np.maximum if highest else np.minimum).at(ref, space.store_of, scores)
    return ref


def softmax_probs(space: ActionSpace, scores: Floats, beta: float) -> Floats:
    """pi(c|t) = exp(beta s_c) / sum over C_t of exp(beta s), computed stably per store.

    The service's arithmetic (shared/policy/probabilities.ts), so that the numbers
    agree to the last bit: w_c = exp(beta (s_c - ref_t)) with ref_t the store's
    highest score for beta > 0 (lowest for beta < 0) and w = 1 at ref_t, summed in
    creative order; beta = 0 is the uniform 1/|C_t|.
    """
    if beta == 0:
        return uniform_probs(space)
    ref = _store_extreme(space, scores, highest=beta > 0)[space.store_of]
    weights = np.where(scores == ref, 1.0, np.exp(beta * (scores - ref)))
    sums = np.bincount(space.store_of, weights=weights, minlength=space.n_stores)
    probs: Floats = weights / sums[space.store_of]
    return probs


def greedy_choice(space: ActionSpace, scores: Floats) -> Ints:
    """For each creative, 1 if it is its store's highest score (lowest index on ties)."""
    top = _store_extreme(space, scores, highest=True)
    best = np.flatnonzero(scores == top[space.store_of])
    _, first = np.unique(space.store_of[best], return_index=True)
    chosen = np.zeros(space.n_actions, dtype=np.int64)
    chosen[best[first]] = 1
    return chosen


def epsilon_greedy_probs(space: ActionSpace, scores: Floats, epsilon: float) -> Floats:
    """(1 - e) + e / |C_t| on the store's highest score (lowest index on ties), e / |C_t| else."""
    spread = epsilon / space.store_sizes[space.store_of].astype(np.float64)
    probs: Floats = np.where(greedy_choice(space, scores) == 1, (1.0 - epsilon) + spread, spread)
    return probs


def uniform_probs(space: ActionSpace) -> Floats:
    """1 / |C_t| for every creative of store t."""
    probs: Floats = 1.0 / space.store_sizes[space.store_of].astype(np.float64)
    return probs


def logging_probs(space: ActionSpace, metadata: Mapping[str, Any]) -> Floats | None:
    """pi_b(c | m(c)) of the version's logging policy in creative order.

    ``metadata.logging_probs`` when present; the uniform draw 1/|C_t| for a version
    without a logging policy (its rows were drawn uniformly over creatives, so given
    the store each of C_t had probability 1/|C_t|); None for an adaptive policy,
    whose probabilities change per epoch (they are in the ``pscore`` column).
    """
    policy = metadata.get("logging_policy")
    if policy is None:
        return uniform_probs(space)
    table = metadata.get("logging_probs")
    if not isinstance(table, Mapping):
        if isinstance(policy, Mapping) and "adaptive" in policy:
            return None
        raise ExplorationDataError(
            "metadata has a logging_policy but no logging_probs", code="DATA_LOSS"
        )
    try:
        return np.fromiter(
            (float(table[c]) for c in space.creative_ids), np.float64, space.n_actions
        )
    except KeyError as missing:
        raise ExplorationDataError(
            f"metadata's logging_probs has no entry for creative {missing}", code="DATA_LOSS"
        ) from None


def _table_probs(space: ActionSpace, metadata: Mapping[str, Any], table: Any) -> Floats:
    if not isinstance(table, Mapping):
        raise _bad(f"policy.probs must be an object, got {table!r}", "policy.probs")
    index = {c: i for i, c in enumerate(space.creative_ids)}
    named = np.zeros(space.n_actions, dtype=bool)
    probs = np.zeros(space.n_actions, dtype=np.float64)
    for creative, value in table.items():
        i = index.get(creative)
        if i is None:
            raise _bad(
                f"policy.probs names {creative!r}, which is not a creative of this version",
                "policy.probs",
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 <= value <= 1
        ):
            raise _bad(
                f"policy.probs[{creative!r}] must be a number in [0, 1], got {value!r}",
                "policy.probs",
            )
        named[i] = True
        probs[i] = float(value)
    named_stores = np.unique(space.store_of[named])
    sums = np.bincount(space.store_of, weights=probs, minlength=space.n_stores)
    for t in named_stores:
        if abs(sums[t] - 1.0) > PROBS_SUM_TOLERANCE:
            raise _bad(
                f"policy.probs of store {space.store_ids[t]!r} sum to {float(sums[t])!r}, not 1 "
                f"(within {PROBS_SUM_TOLERANCE:g})",
                "policy.probs",
            )
    unnamed = ~np.isin(space.store_of, named_stores)
    if unnamed.any():
        fallback = logging_probs(space, metadata)
        if fallback is None:
            raise _bad(
                "policy.probs leaves stores unnamed, which would follow this version's "
                "adaptive logging policy (a different one per epoch): name every store's "
                "creatives",
                "policy.probs",
            )
        probs[unnamed] = fallback[unnamed]
    return probs


def policy_probs(metadata: Mapping[str, Any], policy: Any) -> Floats:
    """pi(c | m(c)) of ``policy`` for every creative, in creative order (n_actions,).

    ``policy`` is a named form (``resolve_policy``) or ``{"probs": {creative: p}}``
    (stores it names: their named creatives, summing to 1 within 1e-9, the others 0;
    stores it leaves out: the version's logging policy, the uniform draw without one).
    Scores are the true q_c (``pair_probs``).

    A named policy with ``scoreNoise`` > 0 scores q_c + sigma z_c with the service's
    per-creative noise draw z_c, which is not in the metadata: it is computed only
    when it is the version's own (non-adaptive) logging policy, from ``logging_probs``;
    otherwise this refuses (``FAILED_PRECONDITION``): ``Client.policy_value`` gives
    its exact value.
    """
    return probs_in_space(ActionSpace.from_metadata(metadata), metadata, policy)


def probs_in_space(space: ActionSpace, metadata: Mapping[str, Any], policy: Any) -> Floats:
    """``policy_probs`` for an ``ActionSpace`` already built from ``metadata``."""
    if isinstance(policy, Mapping) and "probs" in policy:
        extra = [k for k in policy if k != "probs"]
        if extra:
            raise _bad(f"policy.{extra[0]} is not a member of a probs policy", f"policy.{extra[0]}")
        return _table_probs(space, metadata, policy["probs"])
    resolved = resolve_policy(policy)
    if resolved["type"] == "uniform":
        return uniform_probs(space)
    if resolved["scoreNoise"] > 0:
        logged = metadata.get("logging_policy")
        if (
            isinstance(logged, Mapping)
            and "adaptive" not in logged
            and _same_policy(resolved, logged)
        ):
            probs = logging_probs(space, metadata)
            if probs is not None:
                return probs
        raise ExplorationDataError(
            "a policy with scoreNoise > 0 scores q_c + sigma * z_c with the service's "
            "per-creative noise draw, which the metadata does not hold: it can be computed "
            "here only when it is this version's own logging policy. Client.policy_value "
            "gives its exact value; or pass {'probs': ...}",
            code="FAILED_PRECONDITION",
            field="policy.scoreNoise",
        )
    if resolved["type"] == "softmax":
        return softmax_probs(space, space.q, resolved["beta"])
    return epsilon_greedy_probs(space, space.q, resolved["epsilon"])


def true_value(metadata: Mapping[str, Any], policy: Any) -> float:
    """The exact value V(pi) = sum_t p(t) sum_{c in C_t} pi(c|t) q_c, from the metadata.

    The same number ``POST /evaluatePolicy`` answers as ``value`` (to float
    rounding), without a server; for the policies ``policy_probs`` accepts.
    """
    space = ActionSpace.from_metadata(metadata)
    probs = probs_in_space(space, metadata, policy)
    return float(np.sum(space.store_weights[space.store_of] * probs * space.q))
