"""When to try an HTTP request again, and how long to wait before it."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

# Answers that say "not now" rather than "no". A POST is retried only on the
# two that promise nothing was done (429, and 503 with which the API refuses a
# generate it cannot take): a 500 after a POST may have allocated a version.
RETRY_STATUSES_GET = frozenset({429, 500, 502, 503, 504})
RETRY_STATUSES_POST = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff and full jitter.

    Attributes:
        attempts: tries in all, the first included (default 5).
        backoff_seconds: the first wait (default 0.5 s), doubled at each retry.
        max_backoff_seconds: the longest wait between tries, ``Retry-After``
            included (default 30 s).
    """

    attempts: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("backoff times must not be negative")

    def retries_status(self, method: str, status: int) -> bool:
        """Whether an answer with this status is worth another try."""
        allowed = RETRY_STATUSES_POST if method.upper() == "POST" else RETRY_STATUSES_GET
        return status in allowed

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based).

        A ``Retry-After`` header (seconds or an HTTP date) is honoured, capped at
        ``max_backoff_seconds``; otherwise a random time up to the backoff.
        """
        server = parse_retry_after(retry_after)
        if server is not None:
            return min(server, self.max_backoff_seconds)
        ceiling = min(self.backoff_seconds * (2 ** (attempt - 1)), self.max_backoff_seconds)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header value, or None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
