"""Identity tokens for the cloud functions: where they come from, never where they go.

A token source is asked for a token before each API call (it caches what it
can) and told to forget it when the API answers 401/403, so that an expired
token is replaced once. Tokens are never logged, never part of a ``repr`` and
never part of an exception.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from .errors import ExplorationDataError, redact

GCLOUD_COMMAND: tuple[str, ...] = ("gcloud", "auth", "print-identity-token")
# gcloud's identity tokens live one hour; ask again well before that.
GCLOUD_TOKEN_LIFETIME_SECONDS = 45 * 60


@runtime_checkable
class TokenSource(Protocol):
    """Anything that hands out identity tokens."""

    def token(self, audience: str) -> str:
        """A token for a call to ``audience`` (the function's URL)."""
        ...

    def invalidate(self) -> None:
        """Forget cached tokens (the API refused the last one)."""
        ...


def _unauthenticated(message: str) -> ExplorationDataError:
    return ExplorationDataError(message, code="UNAUTHENTICATED")


def _checked(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _unauthenticated(f"{where} gave no token (got {type(value).__name__})")
    return value.strip()


class CallableTokenSource:
    """Calls a function of no arguments for every request; it does its own caching."""

    def __init__(self, function: Callable[[], str]) -> None:
        self._function = function

    def token(self, audience: str) -> str:
        """The function's token."""
        return _checked(self._function(), "the token callable")

    def invalidate(self) -> None:
        """Nothing cached here."""

    def __repr__(self) -> str:
        return "<token from a callable>"


class GcloudTokenSource:
    """``gcloud auth print-identity-token``, cached for 45 minutes."""

    def __init__(
        self,
        command: Sequence[str] = GCLOUD_COMMAND,
        lifetime_seconds: float = GCLOUD_TOKEN_LIFETIME_SECONDS,
        timeout_seconds: float = 60.0,
    ) -> None:
        self._command = tuple(command)
        self._lifetime = lifetime_seconds
        self._timeout = timeout_seconds
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def token(self, audience: str) -> str:
        """A cached token, or a new one from gcloud."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._token = self._run()
                self._expires = time.monotonic() + self._lifetime
            return self._token

    def invalidate(self) -> None:
        """Ask gcloud again next time."""
        with self._lock:
            self._token = None

    def _run(self) -> str:
        program = shutil.which(self._command[0])
        if program is None:
            raise _unauthenticated(
                f"{self._command[0]!r} is not on PATH: install the Google Cloud CLI and run "
                "'gcloud auth login', or pass another token source"
            )
        try:
            done = subprocess.run(  # noqa: S603 - a fixed command, no shell
                [program, *self._command[1:]],
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise _unauthenticated(
                f"{' '.join(self._command)} did not answer within {self._timeout:g} s"
            ) from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            why = redact(lines[-1][:300]) if lines else "no message"
            raise _unauthenticated(
                f"{' '.join(self._command)} exited with {done.returncode}: {why}"
            )
        return _checked(done.stdout, " ".join(self._command))

    def __repr__(self) -> str:
        return f"<token from {' '.join(self._command)!r}>"


class CredentialsTokenSource:
    """google-auth credentials whose ``token`` is an ID token (``IDTokenCredentials``).

    Refreshed with google-auth's requests transport when not valid, and when
    the API refused the last token.
    """

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials
        self._stale = False
        self._lock = threading.Lock()

    def token(self, audience: str) -> str:
        """The credentials' token, refreshed when needed."""
        with self._lock:
            credentials = self._credentials
            if self._stale or not getattr(credentials, "valid", False):
                try:
                    credentials.refresh(_google_request())
                except ExplorationDataError:
                    raise
                except Exception as error:  # noqa: BLE001 - google-auth raises many kinds
                    raise _unauthenticated(
                        f"{type(credentials).__name__} could not refresh: "
                        f"{type(error).__name__}: {redact(str(error))[:300]}"
                    ) from None
                self._stale = False
            return _checked(credentials.token, type(credentials).__name__)

    def invalidate(self) -> None:
        """Refresh before the next call."""
        with self._lock:
            self._stale = True

    def __repr__(self) -> str:
        return f"<token from {type(self._credentials).__name__}>"


class GoogleAuthTokenSource:
    """google-auth's Application Default Credentials, as ID tokens per function URL.

    ``google.oauth2.id_token.fetch_id_token_credentials``: a service account key
    (``GOOGLE_APPLICATION_CREDENTIALS``), the metadata server on Google Cloud, or
    an impersonated account. The audience of each token is the function's URL.
    """

    def __init__(self) -> None:
        self._sources: dict[str, CredentialsTokenSource] = {}
        self._lock = threading.Lock()

    def token(self, audience: str) -> str:
        """An ID token for ``audience``."""
        with self._lock:
            source = self._sources.get(audience)
            if source is None:
                id_token = _import_google_auth()
                try:
                    credentials = id_token.fetch_id_token_credentials(audience, _google_request())
                except Exception as error:  # noqa: BLE001 - google-auth raises many kinds
                    raise _unauthenticated(
                        f"google-auth found no ID-token credentials: {type(error).__name__}: "
                        f"{redact(str(error))[:300]}"
                    ) from None
                source = CredentialsTokenSource(credentials)
                self._sources[audience] = source
        return source.token(audience)

    def invalidate(self) -> None:
        """Refresh every audience's credentials before their next call."""
        with self._lock:
            sources = list(self._sources.values())
        for source in sources:
            source.invalidate()

    def __repr__(self) -> str:
        return "<token from google-auth>"


def _import_google_auth() -> Any:
    try:
        from google.oauth2 import id_token
    except ImportError:
        raise _unauthenticated(
            "token='google-auth' needs google-auth: pip install 'exploration-data[google]'"
        ) from None
    return id_token


def _google_request() -> Any:
    try:
        from google.auth.transport.requests import Request
    except ImportError:
        raise _unauthenticated(
            "google-auth credentials need google-auth: pip install 'exploration-data[google]'"
        ) from None
    return Request()


TokenLike = TokenSource | Callable[[], str] | str | Any | None


def token_source(token: TokenLike) -> TokenSource | None:
    """The token source that ``Client(token=...)`` names.

    Args:
        token: ``None`` (no token: the local stack), ``"gcloud"`` (``gcloud auth
            print-identity-token``), ``"google-auth"`` (Application Default
            Credentials, one ID token per function URL), google-auth credentials
            whose token is an ID token (``IDTokenCredentials``), a ``TokenSource``,
            or a function of no arguments that returns the token. A token string
            itself is refused so that it does not end up in a notebook's saved
            cells: pass ``lambda: os.environ["MY_TOKEN"]`` instead.
    """
    if token is None:
        return None
    if isinstance(token, str):
        if token == "gcloud":
            return GcloudTokenSource()
        if token in ("google-auth", "google"):
            return GoogleAuthTokenSource()
        raise ExplorationDataError(
            "token must be None, 'gcloud', 'google-auth', google-auth credentials or a "
            "function returning the token; a token string itself is refused (it would be "
            "saved with the notebook): pass token=lambda: ... instead",
            code="INVALID_ARGUMENT",
            field="token",
        )
    if isinstance(token, TokenSource):
        return token
    if hasattr(token, "refresh") and hasattr(token, "token"):
        return CredentialsTokenSource(token)
    if callable(token):
        return CallableTokenSource(token)
    raise ExplorationDataError(
        f"token of type {type(token).__name__} is not a token source",
        code="INVALID_ARGUMENT",
        field="token",
    )
