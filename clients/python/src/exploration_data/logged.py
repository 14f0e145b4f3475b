"""A version's rows as bandit rounds: action and store indices, rewards, propensities.

The sources are a folder that ``Client.download`` (or the CLI's ``generate --out``)
filled, Parquet files with their metadata, or a DataFrame with its metadata. Columns
are read by name (``target_store_id``, ``creative_pack_id``, ``label`` and, when the
version has a logging policy, ``pscore`` and ``policy_epoch``: docs/design.md §12), in
batches, so that no column of Python strings is ever built for the whole file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ExplorationDataError
from .policies import ActionSpace, Floats, Ints, logging_probs

TARGET = "target_store_id"
CREATIVE = "creative_pack_id"
LABEL = "label"
PSCORE = "pscore"
EPOCH = "policy_epoch"
BATCH_ROWS = 65_536
_METADATA_NAME = re.compile(r"^metadata_v([1-9][0-9]*)\.json$")


@dataclass(frozen=True)
class Batch:
    """Consecutive rounds: ``actions``, ``stores``, ``rewards`` int64 and ``pscores`` float64.

    ``pscores`` is the ``pscore`` column, or the logging policy's probability of the
    row's creative when the data has no such column (1/|C_t| without a policy);
    ``epochs`` is the ``policy_epoch`` column of an adaptive log, else None.
    """

    actions: Ints
    stores: Ints
    rewards: Ints
    pscores: Floats
    epochs: Ints | None

    def __len__(self) -> int:
        return len(self.actions)


class LoggedData:
    """A version's rows and metadata, for ``to_obp``, ``action_dist`` and ``to_vw``.

    Build one with ``from_dir``, ``from_files`` or ``from_frame``; the functions of
    ``exploration_data.ope`` also take a folder path or a ``(DataFrame, metadata)``
    pair and build it themselves.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        *,
        files: Sequence[Path | bytes] | None = None,
        frame: pd.DataFrame | None = None,
    ) -> None:
        if (files is None) == (frame is None):
            raise ExplorationDataError(
                "LoggedData needs Parquet files or a DataFrame (one of them)",
                code="INVALID_ARGUMENT",
            )
        self.metadata: Mapping[str, Any] = metadata
        self.space = ActionSpace.from_metadata(metadata)
        self.files = tuple(files) if files is not None else None
        self.frame = frame
        self._creatives = pd.Index(self.space.creative_ids)
        self._stores = pd.Index(self.space.store_ids)
        # pi_b(c | m(c)) per creative, or None for an adaptive policy (per epoch).
        self.logging = logging_probs(self.space, metadata)

    # -------------------------------------------------------------- sources --

    @classmethod
    def from_dir(cls, directory: str | os.PathLike[str], version: int | None = None) -> LoggedData:
        """The Parquet files and ``metadata_v{N}.json`` of a downloaded folder.

        The data files are those the metadata lists (``objects.parquet``: one file
        or its shards, in order). With several versions in the folder, ``version``
        says which.
        """
        folder = Path(directory).expanduser()
        if not folder.is_dir():
            raise ExplorationDataError(f"{folder} is not a folder", code="NOT_FOUND")
        found = sorted(
            (int(m.group(1)), p)
            for p in folder.iterdir()
            if (m := _METADATA_NAME.match(p.name)) is not None
        )
        if version is not None:
            found = [(v, p) for v, p in found if v == version]
        if len(found) != 1:
            what = "no metadata_v{N}.json" if not found else "several metadata_v{N}.json"
            raise ExplorationDataError(
                f"{folder} has {what}{' for that version' if version is not None else ''}"
                + ("; pass version=N" if len(found) > 1 else ""),
                code="NOT_FOUND" if not found else "INVALID_ARGUMENT",
                field="version" if len(found) > 1 else None,
            )
        metadata = json.loads(found[0][1].read_bytes())
        names = parquet_names(metadata)
        paths = [folder / name for name in names]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise ExplorationDataError(
                f"{folder} lacks {', '.join(missing)} (download the parquet format)",
                code="NOT_FOUND",
            )
        return cls(metadata, files=paths)

    @classmethod
    def from_files(
        cls, files: Sequence[str | os.PathLike[str] | bytes], metadata: Mapping[str, Any]
    ) -> LoggedData:
        """Parquet files or their bytes (one, or the shards in order) and their metadata."""
        return cls(metadata, files=[f if isinstance(f, bytes) else Path(f) for f in files])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, metadata: Mapping[str, Any]) -> LoggedData:
        """A DataFrame as ``Client.load_parquet`` gives it, and its metadata object."""
        missing = [c for c in (TARGET, CREATIVE, LABEL) if c not in frame.columns]
        if missing:
            raise ExplorationDataError(
                f"the DataFrame lacks the column(s) {', '.join(missing)}",
                code="INVALID_ARGUMENT",
            )
        return cls(metadata, frame=frame)

    # ----------------------------------------------------------------- rows --

    @property
    def n_rounds(self) -> int:
        """The number of rows."""
        if self.frame is not None:
            return len(self.frame)
        assert self.files is not None  # noqa: S101 - one of the two, checked in __init__
        return sum(pq.ParquetFile(_readable(f)).metadata.num_rows for f in self.files)

    def batches(self, rows: int = BATCH_ROWS, *, labels: bool = True) -> Iterator[Batch]:
        """The rounds in order, ``rows`` at a time (the last batch may be shorter).

        With ``labels=False`` only the stores are read (``actions``, ``rewards`` and
        ``pscores`` are then empty arrays): what ``action_dist`` needs.
        """
        if rows < 1:
            raise ExplorationDataError(
                f"rows must be at least 1, got {rows}", code="INVALID_ARGUMENT", field="rows"
            )
        offset = 0
        for columns in self._column_batches(rows, labels):
            batch = self._batch(columns, offset, labels)
            offset += len(batch.stores)
            yield batch

    def _column_batches(self, rows: int, labels: bool) -> Iterator[dict[str, Any]]:
        wanted = [TARGET, CREATIVE, LABEL, PSCORE, EPOCH] if labels else [TARGET]
        if self.frame is not None:
            present = [c for c in wanted if c in self.frame.columns]
            for start in range(0, len(self.frame), rows):
                part = self.frame.iloc[start : start + rows]
                yield {c: part[c].to_numpy() for c in present}
            return
        assert self.files is not None  # noqa: S101 - one of the two, checked in __init__
        for path in self.files:
            file = pq.ParquetFile(_readable(path), read_dictionary=[TARGET, CREATIVE])
            names = set(file.schema_arrow.names)
            present = [c for c in wanted if c in names]
            for record in file.iter_batches(batch_size=rows, columns=present):
                yield {c: record.column(c) for c in present}

    @staticmethod
    def _indices(column: Any, ids: pd.Index, what: str, offset: int) -> Ints:
        """Index of each value of a string column in ``ids`` (the metadata's order)."""
        if isinstance(column, pa.DictionaryArray):
            # Only the batch's distinct values are looked up, then spread by code.
            dictionary = column.dictionary.to_numpy(zero_copy_only=False)
            codes = np.asarray(ids.get_indexer(dictionary), dtype=np.int64)
            out: Ints = codes[column.indices.to_numpy(zero_copy_only=False)]
        else:
            values = (
                column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) else column
            )
            out = np.asarray(ids.get_indexer(values), dtype=np.int64)
        bad = np.flatnonzero(out < 0)
        if len(bad):
            row = int(bad[0])
            value = column[row].as_py() if isinstance(column, pa.Array) else column[row]
            raise ExplorationDataError(
                f"row {offset + row}'s {what} {value!r} is not in the metadata",
                code="DATA_LOSS",
            )
        return out

    def _batch(self, columns: dict[str, Any], offset: int, labels: bool) -> Batch:
        stores = self._indices(columns[TARGET], self._stores, TARGET, offset)
        empty_i: Ints = np.empty(0, dtype=np.int64)
        if not labels:
            return Batch(empty_i, stores, empty_i, np.empty(0, dtype=np.float64), None)
        actions = self._indices(columns[CREATIVE], self._creatives, CREATIVE, offset)
        wrong = np.flatnonzero(self.space.store_of[actions] != stores)
        if len(wrong):
            row = int(wrong[0])
            raise ExplorationDataError(
                f"row {offset + row} shows creative {self.space.creative_ids[actions[row]]!r} "
                f"to {self.space.store_ids[stores[row]]!r}, but the metadata serves it to "
                f"{self.space.store_ids[self.space.store_of[actions[row]]]!r}",
                code="DATA_LOSS",
            )
        rewards = _numbers(columns[LABEL], np.int64)
        if PSCORE in columns:
            pscores = _numbers(columns[PSCORE], np.float64)
        elif self.logging is not None:
            pscores = self.logging[actions]
        else:
            raise ExplorationDataError(
                "the rows have no pscore column and the logging policy is adaptive "
                "(its probabilities change per epoch): read the pscore column too",
                code="FAILED_PRECONDITION",
            )
        epochs = _numbers(columns[EPOCH], np.int64) if EPOCH in columns else None
        return Batch(actions, stores, rewards, pscores, epochs)


Source: TypeAlias = LoggedData | str | os.PathLike[str] | tuple[pd.DataFrame, Mapping[str, Any]]


def logged_data(source: Source) -> LoggedData:
    """``source`` as ``LoggedData``: itself, a folder path, or ``(frame, metadata)``."""
    if isinstance(source, LoggedData):
        return source
    if isinstance(source, str | os.PathLike):
        return LoggedData.from_dir(source)
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], pd.DataFrame):
        return LoggedData.from_frame(source[0], source[1])
    raise ExplorationDataError(
        "source must be LoggedData, a folder path, or a (DataFrame, metadata) pair, "
        f"got {type(source).__name__}",
        code="INVALID_ARGUMENT",
        field="source",
    )


def parquet_names(metadata: Mapping[str, Any]) -> list[str]:
    """The Parquet file names of a version in row order (one file, or its shards)."""
    objects = metadata.get("objects")
    entry = objects.get("parquet") if isinstance(objects, Mapping) else None
    if not isinstance(entry, Mapping):
        raise ExplorationDataError(
            "this version has no parquet format (objects.parquet in its metadata)",
            code="FAILED_PRECONDITION",
        )
    shards = entry.get("shards")
    parts = shards if isinstance(shards, list) else [entry]
    names = [p.get("name") for p in parts if isinstance(p, Mapping)]
    if not names or not all(isinstance(n, str) and n and "/" not in n for n in names):
        raise ExplorationDataError("metadata's objects.parquet names no files", code="DATA_LOSS")
    return [str(n) for n in names]


def _readable(file: Path | bytes) -> Any:
    return pa.BufferReader(file) if isinstance(file, bytes) else str(file)


def _numbers(column: Any, dtype: type[np.generic]) -> Any:
    values = column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) else column
    return np.asarray(values, dtype=dtype)
