"""Fixtures for the tests against the real local stack (started by the node test).

Environment (set by test/interop/python-client.test.ts):
    EXPLORATION_DATA_TEST_URL       the stack's base URL
    EXPLORATION_DATA_REPO           the repository (for the CLI and read_dataset.py)
    EXPLORATION_DATA_NODE           the node binary that runs build/cli/main.js
    EXPLORATION_DATA_ROW_SCHEMA     the row schema's JSON (test/interop/row_schema.py)
    EXPLORATION_DATA_GENERATING_VERSION / _FAILED_VERSION
                                    versions the node test left generating / failed
"""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest
import requests

from exploration_data import Client

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run these tests through test/interop/python-client.test.ts"
        )
    return value


REPO = Path(os.environ.get("EXPLORATION_DATA_REPO", "."))
sys.path.insert(0, str(REPO / "test" / "interop"))
import row_schema  # noqa: E402
from read_dataset import arrow_digest  # noqa: E402

SCHEMA = row_schema.load(env("EXPLORATION_DATA_ROW_SCHEMA"))


class CountingProxy:
    """A forward HTTP proxy on 127.0.0.1 that counts every request that passes it.

    The client's session goes through it, so both the API calls and the
    signed-URL downloads (which go to the storage emulator) are counted where
    they leave the client, not by the client's own bookkeeping.
    """

    def __init__(self) -> None:
        self.paths: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def forward(self) -> None:
                target = urlsplit(self.path)
                with proxy.lock:
                    proxy.paths[target.path] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request(self.command, path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for key, value in answer.getheaders():
                        if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = forward
            do_POST = forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def count(self, predicate: Callable[[str], bool]) -> int:
        with self.lock:
            return sum(n for path, n in self.paths.items() if predicate(path))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def base_url() -> str:
    return env("EXPLORATION_DATA_TEST_URL")


@pytest.fixture
def proxy() -> Iterator[CountingProxy]:
    counting = CountingProxy()
    yield counting
    counting.close()


@pytest.fixture
def client_through(base_url: str, tmp_path: Path) -> Callable[[CountingProxy], Client]:
    def make(counting: CountingProxy) -> Client:
        session = requests.Session()
        session.trust_env = False
        session.proxies = {"http": counting.url}
        return Client(base_url, cache_dir=tmp_path / "cache", session=session, progress=False)

    return make


@pytest.fixture
def client(base_url: str, tmp_path: Path) -> Client:
    return Client(base_url, cache_dir=tmp_path / "cache", progress=False)


def run_cli(*args: str) -> str:
    """Runs the project's CLI (build/cli/main.js); returns its stdout."""
    done = subprocess.run(
        [env("EXPLORATION_DATA_NODE"), str(REPO / "build" / "cli" / "main.js"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, f"CLI {args[0]} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


def cli_generate(out: Path, **inputs: Any) -> Path:
    """The CLI's files for the same inputs as a generate request (version 1)."""
    flags = {
        "nSamples": "--samples",
        "seed": "--seed",
        "nTargetStoreIds": "--target-store-ids",
        "nCreativePackIds": "--creative-pack-ids",
        "formats": "--formats",
        "tfrecordCompression": "--tfrecord-compression",
    }
    args = ["generate", "--out", str(out), "--json", "--no-progress"]
    for key, value in inputs.items():
        text = ",".join(value) if isinstance(value, list) else str(value)
        args += [flags[key], text.lower() if key == "tfrecordCompression" else text]
    run_cli(*args)
    return out


def frame_digest(frame: Any) -> str:
    table = pa.Table.from_pandas(frame[SCHEMA.names], preserve_index=False)
    return str(arrow_digest(table, SCHEMA))


def file_digest(path: Path) -> str:
    import pyarrow.parquet as pq

    return str(arrow_digest(pq.read_table(path), SCHEMA))


def tf_digest(dataset: Any) -> tuple[str, int]:
    """Row digest of a parsed tf.data.Dataset, as read_dataset.py defines it."""
    digest = hashlib.sha256()
    rows = 0
    for batch in dataset.batch(16384).as_numpy_iterator():
        lines = SCHEMA.value_lines(batch)
        digest.update(b"".join(lines))
        rows += len(lines)
    return digest.hexdigest(), rows


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
