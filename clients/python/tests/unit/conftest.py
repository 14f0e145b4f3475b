"""A scripted HTTP server on 127.0.0.1 standing in for the API and for storage.

Each route answers from a list of replies, in order, the last one repeating.
Every request is recorded (method, path, query, headers, body) so that tests
assert what the client sent and how many times.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google_crc32c
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exploration_data import Client, RetryPolicy, Timeouts


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without an answer
    truncate: int | None = None  # send the full Content-Length but only this many bytes


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


def gcs_crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.Checksum(data).digest()).decode()


def gcs_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is what some tests do


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply | Callable[[Recorded], Reply]]] = {}
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    body,
                )
                with server.lock:
                    server.requests.append(recorded)
                    replies = server.routes.get(parts.path)
                    if not replies:
                        reply: Reply | Callable[[Recorded], Reply] = Reply(
                            404, {"error": {"code": "NOT_FOUND", "message": "no route"}}
                        )
                    else:
                        reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if callable(reply):
                    reply = reply(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                data = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else json.dumps(reply.body).encode()
                    if reply.body is not None
                    else b""
                )
                self.send_response(reply.status)
                ctype = "application/octet-stream" if isinstance(reply.body, bytes) else None
                headers = {"Content-Type": ctype or "application/json", **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if reply.truncate is not None:
                    self.wfile.write(data[: reply.truncate])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(data)

            do_GET = handle_any
            do_POST = handle_any

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def route(self, path: str, *replies: Reply | Callable[[Recorded], Reply]) -> None:
        with self.lock:
            self.routes[path] = list(replies)

    def count(self, path_prefix: str, method: str | None = None) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            )

    def objects(
        self, version: int, files: dict[str, bytes], *, md5_only: bool = False
    ) -> list[dict[str, Any]]:
        """Serves each file under /objects/ and returns the loader's per-file entries."""
        entries = []
        for name, data in files.items():
            self.route(f"/objects/datasets/v{version}/{name}", Reply(200, data))
            entries.append(
                {
                    "url": f"{self.url}/objects/datasets/v{version}/{name}"
                    "?X-Goog-Signature=deadbeefsecret",
                    "object": f"gs://bucket/datasets/v{version}/{name}",
                    "sizeBytes": len(data),
                    "crc32c": None if md5_only else gcs_crc32c(data),
                    "md5": gcs_md5(data),
                }
            )
        return entries

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def parquet_bytes(rows: list[tuple[str, str, int]]) -> bytes:
    table = pa.table(
        {
            "target_store_id": pa.array([r[0] for r in rows], pa.string()),
            "creative_pack_id": pa.array([r[1] for r in rows], pa.string()),
            "label": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def rows(start: int, count: int) -> list[tuple[str, str, int]]:
    return [(f"target_{i % 3}", f"creative_{i % 7}", i % 2) for i in range(start, start + count)]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


FAST_RETRY = RetryPolicy(attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.05)


@pytest.fixture
def make_client(server: FakeServer, tmp_path: Path) -> Callable[..., Client]:
    def make(**options: Any) -> Client:
        options.setdefault("cache_dir", tmp_path / "cache")
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeouts", Timeouts(connect=2, read=5, generate=5))
        options.setdefault("progress", False)
        client = Client(server.url, **options)
        client.poll_interval = (0.01, 0.05)
        return client

    return make
