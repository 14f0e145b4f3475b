"""Token sources: a callable, gcloud, google-auth; refreshed on 401; never shown."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeServer, Recorded, Reply

from exploration_data import Client, ExplorationDataError, GcloudTokenSource

SECRET = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJl"
LIST = {"datasets": [], "nextPageToken": None}


def bearer(server: FakeServer, index: int = -1) -> str | None:
    return server.requests[index].headers.get("Authorization")


def test_no_token_sends_no_authorization(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/listDatasets", Reply(200, LIST))
    make_client().list_datasets()
    assert bearer(server) is None


def test_a_callable_is_asked_for_every_call(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/listDatasets", Reply(200, LIST))
    calls = []

    def token() -> str:
        calls.append(1)
        return f"{SECRET}{len(calls)}"

    client = make_client(token=token)
    client.list_datasets()
    client.list_datasets()
    assert [bearer(server, 0), bearer(server, 1)] == [f"Bearer {SECRET}1", f"Bearer {SECRET}2"]


def test_a_refused_token_is_replaced_once(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route(
        "/listDatasets",
        Reply(401, {"error": {"code": "UNAUTHENTICATED", "message": "expired"}}),
        Reply(200, LIST),
    )
    tokens = iter(["old-token", "new-token"])
    client = make_client(token=lambda: next(tokens))
    client.list_datasets()
    assert [bearer(server, 0), bearer(server, 1)] == ["Bearer old-token", "Bearer new-token"]


def test_a_token_refused_twice_is_an_error_without_the_token(
    server: FakeServer, make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    server.route(
        "/listDatasets", Reply(403, {"error": {"code": "PERMISSION_DENIED", "message": "no"}})
    )
    client = make_client(token=lambda: SECRET)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ExplorationDataError) as raised:
        client.list_datasets()
    assert raised.value.code == "PERMISSION_DENIED"
    assert server.count("/listDatasets") == 2
    shown = [str(raised.value), repr(raised.value), repr(client), caplog.text]
    shown += [str(vars(raised.value))]
    assert all(SECRET not in text for text in shown)
    assert "exploration_data" in caplog.text  # the client did log, just not the token


def test_no_token_travels_to_storage(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    from conftest import parquet_bytes, rows

    entries = server.objects(1, {"dataset_v1.parquet": parquet_bytes(rows(0, 5))})
    server.route("/loadParquet", Reply(200, {"version": 1, "expiresAt": "x", **entries[0]}))
    make_client(token=lambda: SECRET).load_parquet(1)
    download = next(r for r in server.requests if r.path.startswith("/objects/"))
    assert "Authorization" not in download.headers
    loader = next(r for r in server.requests if r.path == "/loadParquet")
    assert loader.headers["Authorization"] == f"Bearer {SECRET}"


def test_a_token_string_is_refused() -> None:
    with pytest.raises(ExplorationDataError) as raised:
        Client("http://127.0.0.1:1", token=SECRET)
    assert raised.value.field == "token"
    assert SECRET not in str(raised.value)


def test_a_callable_returning_nothing(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    with pytest.raises(ExplorationDataError) as raised:
        make_client(token=lambda: "").list_datasets()
    assert raised.value.code == "UNAUTHENTICATED"
    assert server.requests == []


# ----------------------------------------------------------------- gcloud ---


def fake_gcloud(folder: Path, script: str) -> Path:
    path = folder / "gcloud"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_gcloud_token_is_cached_and_refreshed_on_401(
    server: FakeServer,
    make_client: Callable[..., Client],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = tmp_path / "runs"
    fake_gcloud(
        tmp_path,
        f'[ "$1 $2" = "auth print-identity-token" ] || exit 9\n'
        f'echo x >> "{runs}"\nprintf "{SECRET}%s\\n" "$(wc -l < "{runs}" | tr -d " ")"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    server.route(
        "/listDatasets",
        Reply(200, LIST),
        Reply(200, LIST),
        Reply(401, {"error": {"code": "UNAUTHENTICATED", "message": "expired"}}),
        Reply(200, LIST),
    )
    client = make_client(token="gcloud")
    client.list_datasets()
    client.list_datasets()
    client.list_datasets()
    assert runs.read_text().count("x") == 2
    assert [bearer(server, i) for i in range(4)] == [f"Bearer {SECRET}{n}" for n in (1, 1, 1, 2)]
    assert SECRET not in repr(client)


def test_gcloud_failure_says_why_without_output(
    make_client: Callable[..., Client], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gcloud(
        tmp_path,
        f'echo "{SECRET}"\necho "ERROR: (gcloud.auth) You do not currently have an active '
        'account selected." >&2\nexit 1\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ExplorationDataError) as raised:
        make_client(token="gcloud").list_datasets()
    assert raised.value.code == "UNAUTHENTICATED"
    assert "exited with 1" in raised.value.message
    assert "no active account" in raised.value.message.replace(
        "do not currently have an active account", "no active account"
    )
    assert SECRET not in str(raised.value)


def test_gcloud_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExplorationDataError, match="not on PATH") as raised:
        GcloudTokenSource().token("http://x")
    assert raised.value.code == "UNAUTHENTICATED"


def test_gcloud_that_hangs_is_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_gcloud(tmp_path, "sleep 5\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    with pytest.raises(ExplorationDataError, match="did not answer"):
        GcloudTokenSource(timeout_seconds=0.3).token("http://x")
    assert time.monotonic() - started < 3


# ------------------------------------------------------------- google-auth ---


def jwt_segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_id_token(audience: str, serial: int) -> str:
    claims = {"aud": audience, "exp": int(time.time()) + 3600, "iat": int(time.time()), "n": serial}
    return f"{jwt_segment({'alg': 'RS256'})}.{jwt_segment(claims)}.c2ln"


def service_account_file(folder: Path, token_uri: str) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "notebook@test-project.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = folder / "key.json"
    path.write_text(json.dumps(info))
    return path


def test_google_auth_id_tokens_per_function_url(
    server: FakeServer,
    make_client: Callable[..., Client],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """token="google-auth": a service-account key's IDTokenCredentials, audience = function URL."""
    issued: list[str] = []

    def token_endpoint(request: Recorded) -> Reply:
        form = dict(p.split("=", 1) for p in request.body.decode().split("&"))
        assertion = form["assertion"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(assertion + "=" * (-len(assertion) % 4)))
        issued.append(claims["target_audience"])
        return Reply(200, {"id_token": unsigned_id_token(claims["target_audience"], len(issued))})

    server.route("/token", token_endpoint)
    server.route("/listDatasets", Reply(200, LIST))
    server.route("/loadMetadata", Reply(200, {"version": 1, "status": "ready", "metadata": {}}))
    key = service_account_file(tmp_path, f"{server.url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))

    client = make_client(token="google-auth")
    client.list_datasets()
    client.list_datasets()
    client.load_metadata(1)
    assert issued == [f"{server.url}/listDatasets", f"{server.url}/loadMetadata"]
    api = [r for r in server.requests if r.path != "/token"]
    assert len(api) == 3
    for request in api:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["aud"] == f"{server.url}{request.path}"
    assert api[0].headers["Authorization"] == api[1].headers["Authorization"]  # cached
    assert "eyJ" not in repr(client)


def test_google_auth_credentials_object_is_refreshed(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    class IDTokenCredentials:
        def __init__(self) -> None:
            self.token: str | None = None
            self.refreshes = 0

        @property
        def valid(self) -> bool:
            return self.token is not None

        def refresh(self, request: object) -> None:
            assert type(request).__module__ == "google.auth.transport.requests"
            self.refreshes += 1
            self.token = f"{SECRET}{self.refreshes}"

    server.route(
        "/listDatasets",
        Reply(200, LIST),
        Reply(401, {"error": {"code": "UNAUTHENTICATED", "message": "expired"}}),
        Reply(200, LIST),
    )
    credentials = IDTokenCredentials()
    client = make_client(token=credentials)
    client.list_datasets()
    client.list_datasets()
    assert credentials.refreshes == 2
    assert [bearer(server, i) for i in range(3)] == [f"Bearer {SECRET}{n}" for n in (1, 1, 2)]
    assert repr(client).count("IDTokenCredentials") == 1
    assert SECRET not in repr(client)


def test_credentials_that_cannot_refresh(make_client: Callable[..., Client]) -> None:
    class Broken:
        token = None
        valid = False

        def refresh(self, request: object) -> None:
            raise RuntimeError(f"invalid_grant: Bearer {SECRET} was revoked")

    with pytest.raises(ExplorationDataError) as raised:
        make_client(token=Broken()).list_datasets()
    assert raised.value.code == "UNAUTHENTICATED"
    assert "Broken could not refresh: RuntimeError: invalid_grant" in raised.value.message
    assert SECRET not in str(raised.value)
    assert raised.value.__cause__ is None
