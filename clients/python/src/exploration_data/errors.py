"""The one exception class of the client, and how an HTTP answer becomes one."""

from __future__ import annotations

import json
import re
from typing import Any

# The API's codes for a status without a JSON error body (a proxy, a load
# balancer or the platform answered instead of a function).
_CODE_OF_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "FAILED_PRECONDITION",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# A version's statuses and whether a client waiting for it to be ready should
# poll again: the service's one status table (shared/catalog/statuses.ts), as
# the API's 409 names them in ``error.versionStatus``.
VERSION_STATUSES: dict[str, bool] = {"generating": True, "ready": False, "failed": False}


def keeps_waiting(version_status: str | None) -> bool:
    """Whether a version in this status may still become ready (``generating``)."""
    return VERSION_STATUSES.get(version_status or "", False)


# Anything shaped like a JWT or a bearer credential is cut from messages that
# the client did not write itself (defence in depth: no token in an exception).
_SECRET = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*|(?i:bearer\s+)\S+|(?i:x-goog-signature=)\w+")


def redact(text: str) -> str:
    """``text`` with anything shaped like a token or a URL signature replaced."""
    return _SECRET.sub("[redacted]", text)


class ExplorationDataError(Exception):
    """Every failure of the client: an API error, a failed version, a bad download.

    Attributes:
        code: the API's error code (``INVALID_ARGUMENT``, ``NOT_FOUND``,
            ``FAILED_PRECONDITION``, ...), or the client's own for failures that
            had no answer: ``UNAVAILABLE`` (no connection), ``DEADLINE_EXCEEDED``
            (a timeout), ``DATA_LOSS`` (a checksum that does not match),
            ``UNAUTHENTICATED`` (no token), ``ALREADY_EXISTS`` (a different file
            is in the way).
        message: what went wrong, as the API or the client said it.
        field: the input field at fault, when the API named one.
        request_id: the API's request id (also in the service's logs).
        http_status: the HTTP status of the answer, or None without one.
        version_status: on a 409 for a version that is not ready, its status as
            the API gives it (``"generating"``: poll again; ``"failed"``: it
            never will be), else None.

    Never holds a token, a signed URL or the response object.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        version_status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.request_id = request_id
        self.http_status = http_status
        self.version_status = version_status

    def __str__(self) -> str:
        head = f"{self.http_status} {self.code}" if self.http_status else self.code
        details = []
        if self.field:
            details.append(f"field: {self.field}")
        if self.version_status:
            details.append(f"version status: {self.version_status}")
        if self.request_id:
            details.append(f"request id: {self.request_id}")
        tail = f" ({', '.join(details)})" if details else ""
        return f"[{head}] {self.message}{tail}"

    def __repr__(self) -> str:
        return (
            f"ExplorationDataError(code={self.code!r}, message={self.message!r}, "
            f"field={self.field!r}, request_id={self.request_id!r}, "
            f"http_status={self.http_status!r}, version_status={self.version_status!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild,
            (
                self.message,
                self.code,
                self.field,
                self.request_id,
                self.http_status,
                self.version_status,
            ),
        )

    @classmethod
    def from_answer(
        cls, status: int, body: bytes, headers: dict[str, str] | Any, what: str
    ) -> ExplorationDataError:
        """The error of a non-2xx answer: the API's JSON error body when there is one.

        Args:
            status: the HTTP status.
            body: the answer's bytes (only the first KiB of a non-JSON body is used).
            headers: the answer's headers (``X-Request-Id`` is read).
            what: what was asked, for the message (``"GET loadParquet"``).
        """
        request_id = headers.get("X-Request-Id") if headers is not None else None
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            code = error.get("code")
            field = error.get("field")
            rid = error.get("requestId")
            status_of_version = error.get("versionStatus")
            return cls(
                redact(error["message"]),
                code=code if isinstance(code, str) else _CODE_OF_STATUS.get(status, "UNKNOWN"),
                field=field if isinstance(field, str) else None,
                request_id=rid if isinstance(rid, str) else request_id,
                http_status=status,
                version_status=(
                    status_of_version if status_of_version in VERSION_STATUSES else None
                ),
            )
        text = body[:1024].decode("utf-8", errors="replace").strip().splitlines()
        first = redact(text[0][:200]) if text else "no body"
        return cls(
            f"{what} answered {status} without the API's JSON error: {first}",
            code=_CODE_OF_STATUS.get(status, "INTERNAL" if status >= 500 else "UNKNOWN"),
            request_id=request_id,
            http_status=status,
        )

    @classmethod
    def from_response(cls, response: Any, what: str = "the request") -> ExplorationDataError:
        """The error of a ``requests.Response`` that is not 2xx (its body is read)."""
        return cls.from_answer(response.status_code, response.content, response.headers, what)


def _rebuild(
    message: str,
    code: str,
    field: str | None,
    request_id: str | None,
    http_status: int | None,
    version_status: str | None = None,
) -> ExplorationDataError:
    return ExplorationDataError(
        message,
        code=code,
        field=field,
        request_id=request_id,
        http_status=http_status,
        version_status=version_status,
    )
