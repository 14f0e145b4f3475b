"""``Client``: the service's HTTP API (docs/design.md §5) as the notebook's functions."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import requests

from .answers import FORMATS, DataFile, Files, parse_files
from .cache import FileCache, default_cache_dir
from .checksums import Expected, file_mismatch
from .errors import ExplorationDataError, keeps_waiting
from .logged import LoggedData
from .ope import DEFAULT_MAX_DENSE_BYTES
from .ope import action_dist as _action_dist
from .ope import to_obp as _to_obp
from .ope import to_vw as _to_vw
from .progress import progress_bar
from .readers import read_parquet, tfrecord_dataset
from .retry import RetryPolicy
from .tokens import TokenLike, token_source
from .transport import Timeouts, Transport

log = logging.getLogger("exploration_data")

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
VersionLike = int | str
T = TypeVar("T")


def default_base_url() -> str:
    """``$EXPLORATION_DATA_URL``, else the local stack's ``http://127.0.0.1:8080``."""
    return os.environ.get("EXPLORATION_DATA_URL") or DEFAULT_BASE_URL


def version_param(version: VersionLike) -> str:
    """The API's ``version`` parameter: a positive integer or ``"latest"``."""
    if isinstance(version, bool):
        pass
    elif isinstance(version, int) and version >= 1:
        return str(version)
    elif isinstance(version, str) and (
        version == "latest" or (version.isdigit() and not version.startswith("0"))
    ):
        return version
    raise ExplorationDataError(
        f'version must be a positive integer or "latest", got {version!r}',
        code="INVALID_ARGUMENT",
        field="version",
    )


class Client:
    """The exploration-data service, from a notebook.

    Example:
        >>> ed = Client("http://127.0.0.1:8080")          # the local stack
        >>> v = ed.generate(nSamples=1_000_000, seed=42)   # waits until ready
        >>> df = ed.load_parquet(v)                        # pandas DataFrame
        >>> meta = ed.load_metadata(v)                     # the true probabilities

    Args:
        base_url: where the functions are: ``http://127.0.0.1:8080`` locally,
            ``https://REGION-PROJECT.cloudfunctions.net`` in the cloud. Default
            ``$EXPLORATION_DATA_URL``, else the local address.
        token: where identity tokens come from: None locally, ``"gcloud"``,
            ``"google-auth"``, google-auth ID-token credentials, or a function
            that returns a token (see ``exploration_data.tokens.token_source``).
        cache_dir: where downloads are kept (default
            ``~/.cache/exploration-data/client``, or ``$EXPLORATION_DATA_CLIENT_CACHE``).
        cache: keep downloads there (default True); False reads Parquet straight
            from the signed URLs into memory.
        max_workers: shards downloaded at once (default 4).
        progress: a tqdm bar on downloads: None (default) shows it in a notebook
            or a terminal only; True/False to force.
        retry: retries of 429/5xx answers and failed connections.
        timeouts: connect, read and generate timeouts per try.
        ready_timeout: seconds ``generate`` waits for a version to be ready.
        session: a ``requests.Session`` to use (proxies, certificates).
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: TokenLike = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        cache: bool = True,
        max_workers: int = 4,
        progress: bool | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        ready_timeout: float = 900.0,
        session: requests.Session | None = None,
    ) -> None:
        if max_workers < 1:
            raise ExplorationDataError(
                f"max_workers must be at least 1, got {max_workers}",
                code="INVALID_ARGUMENT",
                field="max_workers",
            )
        self._transport = Transport(
            base_url or default_base_url(),
            token_source(token),
            session=session,
            retry=retry,
            timeouts=timeouts,
            pool_size=max_workers,
        )
        self.cache = FileCache(Path(cache_dir).expanduser() if cache_dir else default_cache_dir())
        self.use_cache = cache
        self.max_workers = max_workers
        self.progress = progress
        self.ready_timeout = ready_timeout
        self.poll_interval = (0.25, 5.0)

    @property
    def base_url(self) -> str:
        """The functions' base URL."""
        return self._transport.base_url

    def __repr__(self) -> str:
        tokens = self._transport.tokens
        return (
            f"Client(base_url={self.base_url!r}, token={tokens!r}, "
            f"cache_dir={str(self.cache.root)!r}, cache={self.use_cache})"
        )

    # ------------------------------------------------------------- generate --

    def generate(
        self,
        *,
        nSamples: int | None = None,
        shards: int | None = None,
        nTargetStoreIds: int | None = None,
        nCreativePackIds: int | None = None,
        seed: int | None = None,
        formats: Sequence[str] | None = None,
        tfrecordCompression: str | None = None,
        loggingPolicy: Mapping[str, Any] | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> int:
        """Generates a dataset and returns its version once it is ready.

        The arguments are the API's fields (docs/design.md §2); those left out take the
        service's defaults. A single-file request answers 201 when the files are
        written; a sharded one answers 202 at once. Either way the version is
        then followed through ``loadMetadata`` until it is ``ready``; a version
        that ``failed`` raises at once.

        Args:
            nSamples: rows (default 10,000,000).
            shards: files per format (default 1 up to 33,554,432 rows).
            nTargetStoreIds: target stores (default 10).
            nCreativePackIds: creative packs (default 100).
            seed: the seed (default: drawn by the service, recorded).
            formats: ``["parquet", "tfrecord"]`` (default both).
            tfrecordCompression: ``"NONE"`` (default) or ``"GZIP"``.
            loggingPolicy: the logging policy (docs/design.md §12), e.g.
                ``{"type": "softmax", "beta": 200}``: the rows gain ``pscore``.
                Default none: today's rows, no new column.
            wait: wait until the version is ready (default True).
            timeout: seconds to wait for ready (default ``ready_timeout``).

        Returns:
            The version number.

        Raises:
            ExplorationDataError: the API's error (400 names the field), a
                ``failed`` version (``FAILED_PRECONDITION``) or a version still
                generating after the timeout (``DEADLINE_EXCEEDED``).
        """
        fields: dict[str, Any] = {
            "nSamples": nSamples,
            "shards": shards,
            "nTargetStoreIds": nTargetStoreIds,
            "nCreativePackIds": nCreativePackIds,
            "seed": seed,
            "formats": list(formats) if formats is not None else None,
            "tfrecordCompression": tfrecordCompression,
            "loggingPolicy": dict(loggingPolicy) if loggingPolicy is not None else None,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        try:
            status, answer = self._transport.call(
                "POST",
                "generateDataset",
                body=body,
                read_timeout=self._transport.timeouts.generate,
            )
        except ExplorationDataError as error:
            if error.code == "DEADLINE_EXCEEDED" and error.http_status is None:
                error.message += (
                    "; the version may still be generating: see list_datasets(), or raise "
                    "Timeouts(generate=...)"
                )
            raise
        version = answer.get("version") if isinstance(answer, dict) else None
        if not isinstance(version, int) or isinstance(version, bool):
            raise ExplorationDataError(
                f"generateDataset answered {status} without a version", code="INTERNAL"
            )
        log.info("generateDataset answered %d: version %d", status, version)
        if wait:
            self.wait_ready(version, timeout=timeout)
        return version

    def wait_ready(self, version: int, timeout: float | None = None) -> dict[str, Any]:
        """Follows ``loadMetadata?version=N`` until the version is ready.

        Returns:
            The loader's answer ``{version, status, metadata, url, expiresAt}``.

        Raises:
            ExplorationDataError: ``FAILED_PRECONDITION`` with ``version_status``
                ``"failed"`` at once for a version that failed (the API's 409
                says so in ``versionStatus``; its message says why);
                ``DEADLINE_EXCEEDED`` after ``timeout`` seconds.
        """
        limit = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        interval, longest = self.poll_interval
        last: ExplorationDataError | None = None
        while True:
            try:
                _, answer = self._transport.call(
                    "GET", "loadMetadata", params={"version": version_param(version)}
                )
            except ExplorationDataError as error:
                # The 409's versionStatus says whether to wait (VERSION_STATUSES);
                # a failed version, or any other error, is raised as the API said it.
                if error.http_status != 409 or not keeps_waiting(error.version_status):
                    raise
                last = error
            else:
                status = answer.get("status") if isinstance(answer, dict) else None
                if status == "failed":
                    raise ExplorationDataError(
                        f"dataset version {version} failed",
                        code="FAILED_PRECONDITION",
                        version_status="failed",
                    )
                if not keeps_waiting(status):
                    return dict(answer)
                last = None
            if time.monotonic() + interval > deadline:
                raise ExplorationDataError(
                    f"dataset version {version} is still generating after {limit:g} s"
                    + (f" ({last.message})" if last else ""),
                    code="DEADLINE_EXCEEDED",
                )
            self._transport.sleep(interval)
            interval = min(interval * 1.5, longest)

    # --------------------------------------------------------------- catalog --

    def list_datasets(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The versions, newest first: ``{version, status, createdAt, config, rows, objects}``.

        Args:
            limit: at most this many (default: all, page after page).
        """
        out: list[dict[str, Any]] = []
        for entry in self._iter_datasets(page_size=min(limit or 100, 100)):
            out.append(entry)
            if limit is not None and len(out) >= limit:
                break
        return out

    def _iter_datasets(self, page_size: int) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": page_size}
            if token:
                params["pageToken"] = token
            _, answer = self._transport.call("GET", "listDatasets", params=params)
            datasets = answer.get("datasets") if isinstance(answer, dict) else None
            if not isinstance(datasets, list):
                raise ExplorationDataError(
                    "listDatasets answered without a datasets list", code="INTERNAL"
                )
            for entry in datasets:
                if isinstance(entry, dict):
                    yield entry
            next_token = answer.get("nextPageToken")
            if not isinstance(next_token, str) or not next_token:
                return
            token = next_token

    # --------------------------------------------------------------- loaders --

    def load_metadata(self, version: VersionLike = "latest") -> dict[str, Any]:
        """The metadata object of a version: the real probabilities and more.

        Keys: ``target_store_id_probs``, ``creative_pack_id_probs`` (the notebook's),
        ``creative_pack_target``, ``pair_probs``, ``config``, ``objects``,
        ``empirical``, ``generator``, ``version``, ``createdAt``.
        """
        _, answer = self._transport.call(
            "GET", "loadMetadata", params={"version": version_param(version)}
        )
        metadata = answer.get("metadata") if isinstance(answer, dict) else None
        if not isinstance(metadata, dict):
            raise ExplorationDataError("loadMetadata answered without metadata", code="INTERNAL")
        return metadata

    def files(self, format: str, version: VersionLike = "latest") -> Files:
        """The loader's answer for ``format`` (``"parquet"`` or ``"tfrecord"``): signed URLs."""
        if format not in FORMATS:
            raise ExplorationDataError(
                f"format must be one of {', '.join(FORMATS)}, got {format!r}",
                code="INVALID_ARGUMENT",
                field="format",
            )
        function = "loadParquet" if format == "parquet" else "loadTfrecord"
        _, answer = self._transport.call(
            "GET", function, params={"version": version_param(version)}
        )
        return parse_files(answer, f"GET {function}")

    def load_parquet(
        self,
        version: VersionLike = "latest",
        *,
        columns: Sequence[str] | None = None,
        cache: bool | None = None,
    ) -> pd.DataFrame:
        """The Parquet data of a version (all shards, in order) as one pandas DataFrame.

        Columns ``target_store_id``, ``creative_pack_id`` (strings) and ``label``
        (int64), then ``pscore`` (float64) and, for an adaptive policy,
        ``policy_epoch`` (int64) when the version has a logging policy.
        ``df.attrs["version"]`` is the version read (useful with "latest").

        Args:
            version: a version number or ``"latest"``.
            columns: read only these columns.
            cache: override the client's ``cache`` (False: straight from the
                signed URLs into memory, checksum-verified, nothing on disk).
        """
        files = self.files("parquet", version)
        use_cache = self.use_cache if cache is None else cache
        sources: list[Path] | list[bytes] = (
            self._fetch_to_cache(files) if use_cache else self._fetch_to_memory(files)
        )
        frame = read_parquet(sources, columns)
        frame.attrs["version"] = files.version
        return frame

    def load_tfrecord(
        self,
        version: VersionLike = "latest",
        *,
        parse: bool = True,
        batch_size: int | None = None,
    ) -> Any:
        """The TFRecord data of a version as a ``tf.data.Dataset``.

        Every shard is downloaded (into the cache) and read in order; with
        ``parse`` (default) each record is a dict parsed with the notebook's spec:
        ``target_store_id`` and ``creative_pack_id`` ``tf.string``, ``label``
        ``tf.int64``. GZIP files (``.tfrecord.gz``) are read as such. Needs the
        ``tensorflow`` extra.

        Args:
            version: a version number or ``"latest"``.
            parse: parse the records (default True); False gives the raw bytes.
            batch_size: batches of this many records, parsed together with
                ``tf.io.parse_example`` (same spec, ~10x faster per row than the
                notebook's per-record ``parse_single_example``); None: one record
                at a time, as the notebook did.
        """
        from .readers import tensorflow

        tensorflow()  # fail before downloading when TensorFlow is missing
        files = self.files("tfrecord", version)
        return tfrecord_dataset(self._fetch_to_cache(files), parse=parse, batch_size=batch_size)

    def download(
        self,
        version: VersionLike,
        directory: str | os.PathLike[str],
        *,
        formats: Sequence[str] | None = None,
    ) -> list[Path]:
        """Downloads a version's files and metadata into ``directory``, verified.

        Data files are checked against the loader's CRC-32C (or MD5) and
        ``metadata_v{N}.json`` against the loader's metadata. A file already in
        the directory with the right checksum is kept; a different one is never
        overwritten (``ALREADY_EXISTS``).

        Args:
            version: a version number or ``"latest"`` (resolved once, so every
                file is of the same version).
            directory: created if missing.
            formats: data formats to fetch (default: those the version has).

        Returns:
            The paths written or kept, data files first, metadata last.
        """
        target = Path(directory).expanduser()
        target.mkdir(parents=True, exist_ok=True)
        _, answer = self._transport.call(
            "GET", "loadMetadata", params={"version": version_param(version)}
        )
        number = answer.get("version") if isinstance(answer, dict) else None
        metadata = answer.get("metadata") if isinstance(answer, dict) else None
        url = answer.get("url") if isinstance(answer, dict) else None
        if (
            not isinstance(number, int)
            or not isinstance(metadata, dict)
            or not isinstance(url, str)
        ):
            raise ExplorationDataError("loadMetadata answered an unexpected shape", code="INTERNAL")
        config = metadata.get("config")
        has = config.get("formats") if isinstance(config, dict) else None
        wanted = list(formats) if formats is not None else list(has or FORMATS)
        paths: list[Path] = []
        for format in wanted:
            files = self.files(format, number)
            paths.extend(self._fetch_into(files, target))
        metadata_path = target / f"metadata_v{number}.json"
        if not metadata_path.exists():
            data = self._transport.download(
                url, metadata_path.name, Expected(None, None, None), None
            )
            assert data is not None  # noqa: S101 - download to memory returns bytes
            if json.loads(data) != metadata:
                raise ExplorationDataError(
                    f"{metadata_path.name} differs from the metadata loadMetadata answered",
                    code="DATA_LOSS",
                )
            partial = metadata_path.with_name(f".{metadata_path.name}.{os.getpid()}")
            partial.write_bytes(data)
            os.replace(partial, metadata_path)
        elif json.loads(metadata_path.read_bytes()) != metadata:
            raise ExplorationDataError(
                f"{metadata_path} exists with other metadata; not overwritten",
                code="ALREADY_EXISTS",
            )
        paths.append(metadata_path)
        return paths

    # ------------------------------------------------- off-policy evaluation --

    def policy_value(self, version: VersionLike, policy: Mapping[str, Any]) -> dict[str, Any]:
        """The exact value of a policy on a version: ``POST /evaluatePolicy`` (docs/design.md §12).

        Args:
            version: a version number or ``"latest"``.
            policy: ``{"type": "uniform"}``, ``{"type": "softmax", "beta": b,
                "scoreNoise"?: s}``, ``{"type": "epsilon-greedy", "epsilon": e,
                "scoreNoise"?: s}`` or ``{"probs": {creative id: probability}}``.

        Returns:
            The API's answer ``{version, value, logging, uniform, best}``.

        Raises:
            ExplorationDataError: the API's error: 400 ``INVALID_ARGUMENT`` with
                ``field`` (``policy.beta``, ``policy.probs``, ...), 404, 409.
        """
        number = version_param(version)
        body = {"version": int(number) if number.isdigit() else number, "policy": policy}
        _, answer = self._transport.call("POST", "evaluatePolicy", body=body)
        if not isinstance(answer, dict) or not all(
            isinstance(answer.get(k), int | float) and not isinstance(answer.get(k), bool)
            for k in ("version", "value", "logging", "uniform", "best")
        ):
            raise ExplorationDataError(
                "evaluatePolicy answered without {version, value, logging, uniform, best}",
                code="INTERNAL",
            )
        return dict(answer)

    def full_metadata(self, version: VersionLike = "latest") -> dict[str, Any]:
        """The whole ``metadata_v{N}.json`` of a version, its maps included.

        ``load_metadata`` answers a summary past 16 MiB (``omitted`` lists what it
        left out); this reads the file itself through the signed ``url`` then.
        """
        _, answer = self._transport.call(
            "GET", "loadMetadata", params={"version": version_param(version)}
        )
        metadata = answer.get("metadata") if isinstance(answer, dict) else None
        if not isinstance(metadata, dict):
            raise ExplorationDataError("loadMetadata answered without metadata", code="INTERNAL")
        if not metadata.get("omitted"):
            return metadata
        url = answer.get("url")
        if not isinstance(url, str):
            raise ExplorationDataError(
                "loadMetadata answered a summary without the file's url", code="INTERNAL"
            )
        data = self._transport.download(url, "metadata.json", Expected(None, None, None), None)
        assert data is not None  # noqa: S101 - download to memory returns bytes
        full = json.loads(data)
        if not isinstance(full, dict):
            raise ExplorationDataError("the metadata file is not a JSON object", code="DATA_LOSS")
        return full

    def logged_data(self, version: VersionLike = "latest") -> LoggedData:
        """A version's Parquet files (downloaded, or from the cache) and whole metadata.

        What ``to_obp``, ``action_dist`` and ``to_vw`` read; build it once to call
        several of ``exploration_data.ope``'s functions on one download.
        """
        files = self.files("parquet", version)
        sources: list[Path] | list[bytes] = (
            self._fetch_to_cache(files) if self.use_cache else self._fetch_to_memory(files)
        )
        metadata = self.full_metadata(files.version)
        return LoggedData(metadata, files=list(sources))

    def to_obp(
        self,
        version: VersionLike = "latest",
        *,
        dense: bool = False,
        context: str = "store-onehot",
        action_context: str = "store-onehot",
        max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES,
    ) -> dict[str, Any]:
        """Open Bandit Pipeline's ``bandit_feedback`` dict of a version (``ope.to_obp``).

        Keys ``n_rounds``, ``n_actions``, ``action`` (int64 index in the metadata's
        creative order), ``reward``, ``pscore``, ``context``, ``action_context``,
        ``position`` (None); with ``dense=True`` also ``expected_reward`` and
        ``pi_b``, refused past ``max_dense_bytes`` (default 2 GiB). OBP itself is
        not needed.
        """
        return _to_obp(
            self.logged_data(version),
            dense=dense,
            context=context,
            action_context=action_context,
            max_dense_bytes=max_dense_bytes,
        )

    def action_dist(
        self,
        version: VersionLike,
        policy: Mapping[str, Any],
        *,
        max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES,
    ) -> npt.NDArray[np.float64]:
        """An evaluation policy per round, OBP's (n_rounds, n_actions, 1) (``ope.action_dist``)."""
        return _action_dist(self.logged_data(version), policy, max_dense_bytes=max_dense_bytes)

    def to_vw(self, version: VersionLike, path: str | os.PathLike[str]) -> Path:
        """A version's rows as Vowpal Wabbit ``cb_adf`` text in ``path`` (``ope.to_vw``)."""
        return _to_vw(self.logged_data(version), path)

    # ------------------------------------------------------------- fetching --

    def _parallel(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        if len(jobs) <= 1 or self.max_workers == 1:
            return [job() for job in jobs]
        pool = ThreadPoolExecutor(max_workers=min(self.max_workers, len(jobs)))
        try:
            futures = [pool.submit(job) for job in jobs]
            results = [future.result() for future in futures]
        except BaseException:
            # One shard failed, or Ctrl-C in the notebook: start nothing more and
            # do not wait for the downloads under way (they finish or fail alone).
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return results

    def _fetch_to_cache(self, files: Files) -> list[Path]:
        """Every file of ``files`` in the cache (downloaded when missing or changed)."""
        paths: list[Path | None] = [self.cache.lookup(files.version, f) for f in files.files]
        missing = [i for i, p in enumerate(paths) if p is None]
        if missing:
            total = sum(files.files[i].size_bytes or 0 for i in missing)
            bar = progress_bar(total, f"v{files.version} {files.files[0].name}", self.progress)
            try:

                def job(i: int) -> Callable[[], Path]:
                    def run() -> Path:
                        file = files.files[i]
                        path = self.cache.path_of(files.version, file)
                        path.parent.mkdir(parents=True, exist_ok=True)
                        self._transport.download(
                            file.url, file.name, file.expected, path, bar.update
                        )
                        return path

                    return run

                for i, path in zip(missing, self._parallel([job(i) for i in missing]), strict=True):
                    paths[i] = path
            finally:
                bar.close()
        return [p for p in paths if p is not None]

    def _fetch_to_memory(self, files: Files) -> list[bytes]:
        bar = progress_bar(
            files.size_bytes, f"v{files.version} {files.files[0].name}", self.progress
        )
        try:

            def job(file: DataFile) -> Callable[[], bytes]:
                def run() -> bytes:
                    data = self._transport.download(
                        file.url, file.name, file.expected, None, bar.update
                    )
                    assert data is not None  # noqa: S101 - download to memory returns bytes
                    return data

                return run

            return self._parallel([job(f) for f in files.files])
        finally:
            bar.close()

    def _fetch_into(self, files: Files, directory: Path) -> list[Path]:
        """Every file of ``files`` into ``directory``: copied from the cache or downloaded."""
        todo: list[DataFile] = []
        for file in files.files:
            path = directory / file.name
            if path.exists():
                why = file_mismatch(path, file.expected)
                if why is not None:
                    raise ExplorationDataError(
                        f"{path} exists and is not the loader's file ({why}); not overwritten",
                        code="ALREADY_EXISTS",
                    )
                continue
            cached = self.cache.lookup(files.version, file) if self.use_cache else None
            if cached is not None:
                partial = path.with_name(f".{path.name}.{os.getpid()}")
                shutil.copyfile(cached, partial)
                os.replace(partial, path)
            else:
                todo.append(file)
        if todo:
            total = sum(f.size_bytes or 0 for f in todo)
            bar = progress_bar(total, f"v{files.version} {todo[0].name}", self.progress)
            try:

                def job(file: DataFile) -> Callable[[], None]:
                    def run() -> None:
                        self._transport.download(
                            file.url, file.name, file.expected, directory / file.name, bar.update
                        )

                    return run

                self._parallel([job(f) for f in todo])
            finally:
                bar.close()
        return [directory / f.name for f in files.files]
