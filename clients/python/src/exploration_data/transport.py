"""HTTP with retries, timeouts and the API's errors: API calls and signed-URL downloads.

API calls carry the identity token; downloads from signed URLs carry none (the
signature is the credential, and a bearer token must not travel to storage).
Neither a token nor a URL's query string is ever logged or put in an error.
"""

from __future__ import annotations

import io
import logging
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from . import __about__
from .checksums import CHUNK_BYTES, Checker, Expected
from .errors import ExplorationDataError
from .retry import RetryPolicy
from .tokens import TokenSource

log = logging.getLogger("exploration_data")

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait (each is per try).

    Attributes:
        connect: to open a connection (default 10 s).
        read: between bytes of an answer, for loaders and downloads (default 60 s).
        generate: for the answer of ``POST generateDataset``, which writes the
            whole dataset before answering 201 (default 900 s).
    """

    connect: float = 10.0
    read: float = 60.0
    generate: float = 900.0


def _is_connect_failure(error: requests.RequestException) -> bool:
    """True when the request never reached the server (safe to send again, even a POST)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")


def _failure_kind(error: requests.RequestException) -> tuple[str, str]:
    """(code, words) for an exception that had no answer; no URL, no headers."""
    if isinstance(error, requests.Timeout):
        return "DEADLINE_EXCEEDED", f"timed out ({type(error).__name__})"
    if _is_connect_failure(error):
        return "UNAVAILABLE", "could not connect"
    return "UNAVAILABLE", f"connection failed ({type(error).__name__})"


def _path_only(url: str) -> str:
    """The URL without its query string (a signed URL's query is its credential)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class Transport:
    """One base URL, one session, one retry policy."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource | None,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        pool_size: int = 8,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ExplorationDataError(
                f"base_url must be an http(s) URL, got {base_url!r}",
                code="INVALID_ARGUMENT",
                field="base_url",
            )
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.retry = retry or RetryPolicy()
        self.timeouts = timeouts or Timeouts()
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 4))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self.sleep: Callable[[float], None] = time.sleep

    # ------------------------------------------------------------ API calls --

    def call(
        self,
        method: str,
        function: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> tuple[int, Any]:
        """Calls an API function; returns (status, parsed JSON) of a 2xx answer.

        Raises ExplorationDataError with the API's error for any other answer,
        after retrying what the retry policy allows.
        """
        url = f"{self.base_url}/{function}"
        what = f"{method} {function}"
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {
                "Accept": "application/json",
                "User-Agent": f"exploration-data-python/{__about__.__version__}",
            }
            if self.tokens is not None:
                headers["Authorization"] = f"Bearer {self.tokens.token(url)}"
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=headers,
                    timeout=(self.timeouts.connect, read_timeout or self.timeouts.read),
                )
            except requests.RequestException as error:
                code, words = _failure_kind(error)
                safe = method == "GET" or _is_connect_failure(error)
                if safe and attempt < self.retry.attempts:
                    wait = self.retry.delay(attempt)
                    log.info("%s %s; try %d again in %.1f s", what, words, attempt + 1, wait)
                    self.sleep(wait)
                    continue
                raise ExplorationDataError(
                    f"{what} to {self.base_url} {words} after {attempt} "
                    f"{'try' if attempt == 1 else 'tries'}",
                    code=code,
                ) from None
            elapsed = (time.monotonic() - started) * 1000
            log.debug("%s -> %d in %.0f ms", what, response.status_code, elapsed)
            status = response.status_code
            if status in (401, 403) and self.tokens is not None and not refreshed:
                refreshed = True
                self.tokens.invalidate()
                attempt -= 1
                continue
            if self.retry.retries_status(method, status) and attempt < self.retry.attempts:
                wait = self.retry.delay(attempt, response.headers.get("Retry-After"))
                log.info("%s answered %d; try %d in %.1f s", what, status, attempt + 1, wait)
                response.close()
                self.sleep(wait)
                continue
            if not 200 <= status < 300:
                raise ExplorationDataError.from_response(response, what)
            try:
                return status, response.json()
            except ValueError:
                raise ExplorationDataError(
                    f"{what} answered {status} with a body that is not JSON",
                    code="INTERNAL",
                    http_status=status,
                    request_id=response.headers.get("X-Request-Id"),
                ) from None

    # ------------------------------------------------------------ downloads --

    def download(
        self,
        url: str,
        name: str,
        expected: Expected,
        destination: Path | None,
        on_bytes: ProgressCallback | None = None,
    ) -> bytes | None:
        """Streams a signed URL, checking its checksum; retries what can be retried.

        Args:
            url: the signed URL (no token is sent with it).
            name: the object's name, for messages.
            expected: size and checksum the bytes must have.
            destination: the file to create (written under a temporary name and
                renamed when verified); None to return the bytes instead.
            on_bytes: called with each chunk's length (negative to take back a
                failed try's bytes), for a progress bar.

        Returns:
            The bytes when ``destination`` is None, else None.
        """
        attempt = 0
        while True:
            attempt += 1
            counted = 0
            partial = (
                destination.with_name(f".{destination.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}")
                if destination is not None
                else None
            )
            retry_after: str | None = None
            try:
                with self.session.get(
                    url,
                    stream=True,
                    headers={"User-Agent": f"exploration-data-python/{__about__.__version__}"},
                    timeout=(self.timeouts.connect, self.timeouts.read),
                ) as response:
                    status = response.status_code
                    if status != 200:
                        retry_after = response.headers.get("Retry-After")
                        error = ExplorationDataError.from_answer(
                            status, response.content[:1024], response.headers, f"download of {name}"
                        )
                        if status in (403, 400):
                            error.message += " (the signed URL may have expired: load again)"
                        raise error
                    checker = Checker(expected)
                    sink: Any = partial.open("wb") if partial is not None else io.BytesIO()
                    with sink:
                        for chunk in response.iter_content(CHUNK_BYTES):
                            checker.update(chunk)
                            sink.write(chunk)
                            counted += len(chunk)
                            if on_bytes is not None:
                                on_bytes(len(chunk))
                        why = checker.mismatch()
                        if why is not None:
                            raise ExplorationDataError(
                                f"download of {name} does not match the loader's checksum: {why}",
                                code="DATA_LOSS",
                            )
                        data = sink.getvalue() if partial is None else None
                if partial is not None and destination is not None:
                    os.replace(partial, destination)
                log.debug("downloaded %s (%d bytes) from %s", name, counted, _path_only(url))
                return data
            except (requests.RequestException, ExplorationDataError) as failure:
                if partial is not None:
                    partial.unlink(missing_ok=True)
                if on_bytes is not None and counted:
                    on_bytes(-counted)
                if isinstance(failure, ExplorationDataError):
                    error = failure
                    retryable = error.code == "DATA_LOSS" or (
                        error.http_status is not None
                        and self.retry.retries_status("GET", error.http_status)
                    )
                else:
                    code, words = _failure_kind(failure)
                    error = ExplorationDataError(f"download of {name} {words}", code=code)
                    retryable = True
                if retryable and attempt < self.retry.attempts:
                    wait = self.retry.delay(attempt, retry_after)
                    log.info("%s; try %d in %.1f s", error.message, attempt + 1, wait)
                    self.sleep(wait)
                    continue
                if attempt > 1:
                    error.message += f" (after {attempt} tries)"
                raise error from None
