"""Client.policy_value and the download-then-export methods, against the fake server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeServer, Recorded, Reply
from ope_data import BEST_VALUE, LOGGING, ROWS, UNIFORM_VALUE, metadata, parquet_bytes, table

from exploration_data import Client, ExplorationDataError

ANSWER = {
    "version": 3,
    "value": BEST_VALUE,
    "logging": 0.405,
    "uniform": UNIFORM_VALUE,
    "best": BEST_VALUE,
}


def test_policy_value_posts_version_and_policy_and_returns_the_answer(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/evaluatePolicy", Reply(200, ANSWER))
    client = make_client()
    policy = {"type": "epsilon-greedy", "epsilon": 0}
    assert client.policy_value(3, policy) == ANSWER
    assert client.policy_value("latest", {"probs": {"creative_c0": 1}}) == ANSWER
    first, second = [r for r in server.requests if r.path == "/evaluatePolicy"]
    assert first.method == "POST"
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.body) == {"version": 3, "policy": policy}
    assert json.loads(second.body) == {"version": "latest", "policy": {"probs": {"creative_c0": 1}}}


def test_policy_value_raises_the_apis_error_with_its_field(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    error_body = {
        "error": {
            "code": "INVALID_ARGUMENT",
            "message": "policy.epsilon must be a number in [0, 1], got 1.5",
            "field": "policy.epsilon",
        }
    }
    server.route("/evaluatePolicy", Reply(400, error_body))
    with pytest.raises(ExplorationDataError) as error:
        make_client().policy_value(3, {"type": "epsilon-greedy", "epsilon": 1.5})
    assert error.value.code == "INVALID_ARGUMENT"
    assert error.value.field == "policy.epsilon"
    assert error.value.http_status == 400
    assert error.value.message == "policy.epsilon must be a number in [0, 1], got 1.5"
    assert server.count("/evaluatePolicy") == 1  # a 400 is not retried

    server.route(
        "/evaluatePolicy", Reply(404, {"error": {"code": "NOT_FOUND", "message": "no version 9"}})
    )
    with pytest.raises(ExplorationDataError) as missing:
        make_client().policy_value(9, {"type": "uniform"})
    assert (missing.value.code, missing.value.http_status) == ("NOT_FOUND", 404)


def test_policy_value_refuses_a_bad_version_and_a_malformed_answer(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    with pytest.raises(ExplorationDataError) as error:
        make_client().policy_value(0, {"type": "uniform"})
    assert error.value.field == "version"
    assert server.count("/evaluatePolicy") == 0
    server.route("/evaluatePolicy", Reply(200, {"version": 3, "value": "high"}))
    with pytest.raises(ExplorationDataError, match="without"):
        make_client().policy_value(3, {"type": "uniform"})


def serve_version(server: FakeServer, *, summary: bool = False) -> dict[str, object]:
    data = parquet_bytes(table(ROWS))
    meta = metadata()
    [entry] = server.objects(3, {"dataset_v3.parquet": data})
    server.route("/loadParquet", Reply(200, {"version": 3, "expiresAt": "x", **entry}))
    server.route("/objects/datasets/v3/metadata_v3.json", Reply(200, json.dumps(meta).encode()))
    answered = meta
    if summary:  # loadMetadata's answer past 16 MiB: the maps left out
        answered = {
            k: v for k, v in meta.items() if k not in ("pair_probs", "creative_pack_target")
        }
        answered["omitted"] = ["pair_probs", "creative_pack_target"]
    server.route(
        "/loadMetadata",
        Reply(
            200,
            {
                "version": 3,
                "status": "ready",
                "metadata": answered,
                "url": f"{server.url}/objects/datasets/v3/metadata_v3.json?X-Goog-Signature=s",
                "expiresAt": "x",
            },
        ),
    )
    return meta


@pytest.mark.parametrize("summary", [False, True])
def test_to_obp_downloads_the_version_then_builds_the_dict(
    server: FakeServer, make_client: Callable[..., Client], summary: bool
) -> None:
    serve_version(server, summary=summary)
    feedback = make_client().to_obp("latest", dense=True)
    assert feedback["n_rounds"] == len(ROWS)
    assert feedback["pscore"].tolist() == [LOGGING[c] for c, _ in ROWS]
    assert server.count("/objects/datasets/v3/metadata_v3.json") == (1 if summary else 0)
    [loader] = [r for r in server.requests if r.path == "/loadMetadata"]
    assert loader.query == {"version": ["3"]}  # the version the loader resolved


def test_action_dist_and_to_vw_through_the_client_use_the_cache(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    serve_version(server)
    client = make_client()
    dist = client.action_dist(3, {"type": "uniform"})
    assert dist.shape == (len(ROWS), 5, 1)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    path = client.to_vw(3, tmp_path / "v3.vw")
    assert path.read_text().count("shared |s target=") == len(ROWS)
    assert server.count("/objects/datasets/v3/dataset_v3.parquet") == 1  # then the cache
    in_memory = make_client(cache=False).to_obp(3)
    assert in_memory["action"].tolist() == client.to_obp(3)["action"].tolist()


def test_generate_sends_the_logging_policy(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    def created(request: Recorded) -> Reply:
        return Reply(201, {"version": 4})

    server.route("/generateDataset", created)
    policy = {"type": "softmax", "beta": 200}
    assert make_client().generate(nSamples=1000, loggingPolicy=policy, wait=False) == 4
    [request] = [r for r in server.requests if r.path == "/generateDataset"]
    assert json.loads(request.body) == {"nSamples": 1000, "loggingPolicy": policy}
