"""Retries, timeouts and error mapping of API calls, against the fake server."""

from __future__ import annotations

import pickle
import socket
import time
from collections.abc import Callable

import pytest
from conftest import FakeServer, Reply

from exploration_data import Client, ExplorationDataError, RetryPolicy, Timeouts
from exploration_data.errors import redact
from exploration_data.retry import parse_retry_after

LIST = {"datasets": [], "nextPageToken": None}


def api_error(code: str, message: str, field: str | None = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message, "requestId": "req-1"}
    if field:
        error["field"] = field
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (500, True), (502, True), (503, True), (504, True), (400, False), (404, False)],
)
def test_get_retries_only_transient_statuses(
    server: FakeServer, make_client: Callable[..., Client], status: int, retried: bool
) -> None:
    server.route(
        "/listDatasets",
        Reply(status, api_error("X", "transient?")),
        Reply(200, LIST),
    )
    client = make_client()
    if retried:
        assert client.list_datasets() == []
        assert server.count("/listDatasets") == 2
    else:
        with pytest.raises(ExplorationDataError) as raised:
            client.list_datasets()
        assert raised.value.http_status == status
        assert server.count("/listDatasets") == 1


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (500, False)])
def test_post_is_retried_only_when_nothing_was_done(
    server: FakeServer, make_client: Callable[..., Client], status: int, retried: bool
) -> None:
    server.route(
        "/generateDataset",
        Reply(status, api_error("UNAVAILABLE", "busy"), headers={"Retry-After": "0"}),
        Reply(201, {"version": 7}),
    )
    client = make_client()
    if retried:
        assert client.generate(nSamples=10, wait=False) == 7
        assert server.count("/generateDataset") == 2
    else:
        with pytest.raises(ExplorationDataError) as raised:
            client.generate(nSamples=10, wait=False)
        assert raised.value.http_status == 500
        assert server.count("/generateDataset") == 1


def test_retry_after_is_honoured(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.route(
        "/listDatasets",
        Reply(503, api_error("UNAVAILABLE", "busy"), headers={"Retry-After": "1"}),
        Reply(200, LIST),
    )
    client = make_client(retry=RetryPolicy(attempts=2, backoff_seconds=0.01))
    started = time.monotonic()
    client.list_datasets()
    assert 0.9 <= time.monotonic() - started < 5


def test_gives_up_after_the_attempts_with_the_last_error(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/listDatasets", Reply(503, api_error("UNAVAILABLE", "still busy")))
    with pytest.raises(ExplorationDataError) as raised:
        make_client().list_datasets()
    assert server.count("/listDatasets") == 3
    assert raised.value.code == "UNAVAILABLE"
    assert raised.value.message == "still busy"
    assert raised.value.request_id == "req-1"


def test_a_dropped_connection_is_retried(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/listDatasets", Reply(drop=True), Reply(200, LIST))
    assert make_client().list_datasets() == []
    assert server.count("/listDatasets") == 2


def test_read_timeout_is_bounded(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.route("/listDatasets", Reply(200, LIST, delay=1.5))
    client = make_client(
        timeouts=Timeouts(connect=1, read=0.2),
        retry=RetryPolicy(attempts=2, backoff_seconds=0.01),
    )
    started = time.monotonic()
    with pytest.raises(ExplorationDataError) as raised:
        client.list_datasets()
    elapsed = time.monotonic() - started
    assert raised.value.code == "DEADLINE_EXCEEDED"
    assert "after 2 tries" in raised.value.message
    assert elapsed < 1.5, elapsed
    assert server.count("/listDatasets") == 2


def test_generate_uses_its_own_long_timeout(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/generateDataset", Reply(201, {"version": 3}, delay=0.5))
    client = make_client(timeouts=Timeouts(connect=1, read=0.1, generate=5))
    assert client.generate(nSamples=10, wait=False) == 3


def test_a_read_timeout_on_post_is_not_retried(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/generateDataset", Reply(201, {"version": 3}, delay=1.0))
    client = make_client(timeouts=Timeouts(connect=1, read=0.1, generate=0.2))
    with pytest.raises(ExplorationDataError) as raised:
        client.generate(nSamples=10, wait=False)
    assert raised.value.code == "DEADLINE_EXCEEDED"
    assert "may still be generating" in raised.value.message
    assert server.count("/generateDataset") == 1


def test_connection_refused_is_retried_then_unavailable(tmp_path: object) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(
        f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=3, backoff_seconds=0.01),
        cache_dir=str(tmp_path),
    )
    with pytest.raises(ExplorationDataError) as raised:
        client.generate(nSamples=1, wait=False)  # a POST: safe, nothing was sent
    assert raised.value.code == "UNAVAILABLE"
    assert "could not connect" in raised.value.message
    assert "after 3 tries" in raised.value.message
    assert raised.value.__cause__ is None


@pytest.mark.parametrize(
    ("status", "body", "code", "field", "message"),
    [
        (400, api_error("INVALID_ARGUMENT", "nSamples must be...", "nSamples"), "INVALID_ARGUMENT",
         "nSamples", "nSamples must be..."),
        (404, api_error("NOT_FOUND", "no version 9"), "NOT_FOUND", None, "no version 9"),
        (409, api_error("FAILED_PRECONDITION", "not ready"), "FAILED_PRECONDITION", None,
         "not ready"),
        (415, api_error("UNSUPPORTED_MEDIA_TYPE", "json only"), "UNSUPPORTED_MEDIA_TYPE", None,
         "json only"),
        (413, b"<html>too large</html>", "PAYLOAD_TOO_LARGE", None,
         "GET loadMetadata answered 413 without the API's JSON error: <html>too large</html>"),
    ],
)  # fmt: skip
def test_error_mapping(
    server: FakeServer,
    make_client: Callable[..., Client],
    status: int,
    body: object,
    code: str,
    field: str | None,
    message: str,
) -> None:
    server.route("/loadMetadata", Reply(status, body, headers={"X-Request-Id": "hdr-id"}))
    with pytest.raises(ExplorationDataError) as raised:
        make_client().load_metadata(9)
    error = raised.value
    assert (error.http_status, error.code, error.field, error.message) == (
        status,
        code,
        field,
        message,
    )
    assert error.request_id == ("req-1" if isinstance(body, dict) else "hdr-id")
    assert str(error).startswith(f"[{status} {code}] {message}")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copy.code, copy.http_status, copy.field) == (code, status, field)


def test_a_2xx_that_is_not_json_is_an_error(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/loadMetadata", Reply(200, b"<html>proxy</html>"))
    with pytest.raises(ExplorationDataError, match="not JSON") as raised:
        make_client().load_metadata(1)
    assert raised.value.code == "INTERNAL"


@pytest.mark.parametrize(("version", "sent"), [(3, "3"), ("latest", "latest"), ("12", "12")])
def test_version_parameter(
    server: FakeServer, make_client: Callable[..., Client], version: int | str, sent: str
) -> None:
    server.route("/loadMetadata", Reply(200, {"version": 3, "status": "ready", "metadata": {}}))
    make_client().load_metadata(version)
    assert server.requests[-1].query == {"version": [sent]}


@pytest.mark.parametrize("version", [0, -1, "07", "", "newest", True, 1.5])
def test_bad_versions_are_refused_before_any_request(
    server: FakeServer, make_client: Callable[..., Client], version: object
) -> None:
    with pytest.raises(ExplorationDataError) as raised:
        make_client().load_metadata(version)  # type: ignore[arg-type]
    assert (raised.value.code, raised.value.field, raised.value.http_status) == (
        "INVALID_ARGUMENT",
        "version",
        None,
    )
    assert server.requests == []


def test_bad_base_url() -> None:
    with pytest.raises(ExplorationDataError) as raised:
        Client("127.0.0.1:8080")
    assert raised.value.field == "base_url"


@pytest.mark.parametrize(
    ("value", "seconds"), [("3", 3.0), ("0", 0.0), (None, None), ("soon", None), ("", None)]
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_parse_retry_after_http_date() -> None:
    from email.utils import formatdate

    parsed = parse_retry_after(formatdate(time.time() + 20, usegmt=True))
    assert parsed is not None
    assert 15 <= parsed <= 21


def test_backoff_is_bounded_and_grows() -> None:
    policy = RetryPolicy(attempts=5, backoff_seconds=1, max_backoff_seconds=3)
    assert all(0.5 <= policy.delay(1) <= 1 for _ in range(50))
    assert all(1.5 <= policy.delay(3) <= 3 for _ in range(50))
    assert policy.delay(1, "100") == 3


def test_redact() -> None:
    text = "Bearer abc.def and eyJhbGciOi.eyJzdWIi.c2ln and ?X-Goog-Signature=0123abcd&x=1"
    cleaned = redact(text)
    assert "abc.def" not in cleaned
    assert "eyJ" not in cleaned
    assert "0123abcd" not in cleaned
