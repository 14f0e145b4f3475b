"""exploration-data from a notebook: generate datasets, load them as pandas or tf.data.

    >>> from exploration_data import Client
    >>> ed = Client("http://127.0.0.1:8080")        # or the cloud URL, token="gcloud"
    >>> v = ed.generate(nSamples=1_000_000, seed=42)
    >>> df = ed.load_parquet(v)
    >>> ds = ed.load_tfrecord("latest")
    >>> meta = ed.load_metadata(v)

The module-level ``load_parquet``, ``load_tfrecord`` and ``load_metadata`` are the
original notebook's names; they make a ``Client`` for ``base_url`` (default
``$EXPLORATION_DATA_URL``, else the local stack) and call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .__about__ import __version__
from .answers import DataFile, Files
from .client import Client, VersionLike
from .errors import ExplorationDataError
from .logged import LoggedData
from .readers import feature_spec
from .retry import RetryPolicy
from .tokens import (
    CallableTokenSource,
    CredentialsTokenSource,
    GcloudTokenSource,
    GoogleAuthTokenSource,
    TokenLike,
    TokenSource,
)
from .transport import Timeouts

__all__ = [
    "CallableTokenSource",
    "Client",
    "CredentialsTokenSource",
    "DataFile",
    "ExplorationDataError",
    "Files",
    "GcloudTokenSource",
    "GoogleAuthTokenSource",
    "LoggedData",
    "RetryPolicy",
    "Timeouts",
    "TokenSource",
    "__version__",
    "feature_spec",
    "load_metadata",
    "load_parquet",
    "load_tfrecord",
]


def load_parquet(
    version: VersionLike = "latest",
    base_url: str | None = None,
    token: TokenLike = None,
    *,
    columns: Sequence[str] | None = None,
    **client_options: Any,
) -> pd.DataFrame:
    """The Parquet data of a version as one pandas DataFrame (see ``Client.load_parquet``)."""
    return Client(base_url, token, **client_options).load_parquet(version, columns=columns)


def load_tfrecord(
    version: VersionLike = "latest",
    base_url: str | None = None,
    token: TokenLike = None,
    *,
    parse: bool = True,
    batch_size: int | None = None,
    **client_options: Any,
) -> Any:
    """The TFRecord data of a version as a parsed tf.data.Dataset (see ``Client.load_tfrecord``)."""
    return Client(base_url, token, **client_options).load_tfrecord(
        version, parse=parse, batch_size=batch_size
    )


def load_metadata(
    version: VersionLike = "latest",
    base_url: str | None = None,
    token: TokenLike = None,
    **client_options: Any,
) -> dict[str, Any]:
    """The metadata of a version: the real probabilities (see ``Client.load_metadata``)."""
    return Client(base_url, token, **client_options).load_metadata(version)
