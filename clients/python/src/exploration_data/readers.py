"""The files as the notebook read them: pandas for Parquet, tf.data for TFRecord.

The columns, their pandas dtypes and the TF feature spec come from the row
schema the service declares (``row_schema.json``, shipped in this package and
written by the service's build from its declaration). It lists every column a
dataset can have; a dataset has those whose ``presentWhen`` its config has
(``columns_for(metadata["config"])``), which is also what its files hold.

TensorFlow is imported only by the TFRecord functions (it is an optional
extra, ``pip install './clients/python[tensorflow]'`` from the repository, as
the README says: the package is not on any index; it takes seconds).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ExplorationDataError


def _load_row_schema() -> dict[str, Any]:
    package = __name__.rpartition(".")[0]
    text = resources.files(package).joinpath("row_schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


ROW_SCHEMA: dict[str, Any] = _load_row_schema()
"""The row schema as the service declares it: ``columns``, ``roles``, ``presence``."""

_DECLARED: list[dict[str, Any]] = ROW_SCHEMA["columns"]
_TF_DTYPES = ("string", "int64", "float32")


def _config_has(config: Mapping[str, Any], path: str) -> bool:
    """Whether the dotted path is in config with a value that is not null."""
    value: Any = config
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return False
        value = value.get(key)
    return value is not None


def _declared(names: Sequence[str] | None) -> list[dict[str, Any]]:
    if names is None:
        return [c for c in _DECLARED if c["presentWhen"] is None]
    return [c for c in _DECLARED if c["name"] in names]


def columns_for(config: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The columns, in file order, of a dataset with this config (``metadata["config"]``).

    No config: the columns every dataset has.
    """
    return tuple(
        c["name"]
        for c in _DECLARED
        if c["presentWhen"] is None
        or (config is not None and _config_has(config, c["presentWhen"]))
    )


COLUMNS: tuple[str, ...] = columns_for()
"""The columns every dataset has: ``target_store_id``, ``creative_pack_id``, ``label``."""


def columns_in_file(names: Sequence[str]) -> tuple[str, ...]:
    """A file's own column names, checked: those of some dataset, in the declared order."""
    declared = tuple(c["name"] for c in _declared(names))
    if declared != tuple(names) or any(n not in names for n in COLUMNS):
        raise ExplorationDataError(
            f"the file's columns {list(names)} are not a dataset's columns (declared, "
            f"in order: {[c['name'] for c in _DECLARED]}; is this client older than the service?)",
            code="DATA_LOSS",
        )
    return declared


def pandas_dtypes(config: Mapping[str, Any] | None = None) -> dict[str, tuple[str, ...]]:
    """Per column of such a dataset, the dtypes pandas may read it as.

    Strings: ``object`` (pandas 2) or ``str`` (pandas 3).
    """
    names = columns_for(config)
    return {c["name"]: tuple(c["pandasDtypes"]) for c in _DECLARED if c["name"] in names}


def _check_dtypes(frame: pd.DataFrame) -> None:
    for column in _declared(list(frame.columns)):
        dtype = str(frame.dtypes[column["name"]])
        if dtype not in column["pandasDtypes"]:
            raise ExplorationDataError(
                f"column {column['name']} reads as {dtype}, "
                f"the row schema says {column['pandasDtypes']}",
                code="DATA_LOSS",
            )


def read_parquet(
    sources: Sequence[Path | bytes], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """One DataFrame of the files (or their bytes) in order, with a 0..n-1 index.

    Strings are pandas' default for Arrow strings (``object`` in pandas 2, ``str``
    in pandas 3), ``label`` is ``int64``, and a dataset's further columns have
    the dtypes the row schema gives (``pscore``: ``float64``), as
    ``pd.read_parquet`` gives. The whole file's columns must be a dataset's
    (``DATA_LOSS`` otherwise).
    """
    tables = []
    for source in sources:
        where = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
        tables.append(pq.read_table(where, columns=list(columns) if columns else None))
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    if not columns:
        columns_in_file(table.column_names)
    frame: pd.DataFrame = table.to_pandas()
    _check_dtypes(frame)
    return frame


def tensorflow() -> Any:
    """The ``tensorflow`` module, or a clear error when the extra is not installed."""
    try:
        import tensorflow as tf
    except ImportError:
        raise ExplorationDataError(
            "load_tfrecord needs TensorFlow: pip install './clients/python[tensorflow]' "
            "(from the exploration-data repository), or pip install tensorflow",
            code="FAILED_PRECONDITION",
        ) from None
    return tf


def feature_spec(
    config: Mapping[str, Any] | None = None, columns: Sequence[str] | None = None
) -> dict[str, Any]:
    """The notebook's feature spec: one ``FixedLenFeature([])`` per column of the dataset.

    The columns are those of a dataset with ``config`` (``metadata["config"]``),
    or ``columns``; with neither, those every dataset has: two ``tf.string``,
    one ``tf.int64`` (``label``). A float column (``pscore``) is ``tf.float32``.
    """
    tf = tensorflow()
    names = columns_for(config) if columns is None else columns_in_file(columns)
    dtypes = {name: getattr(tf, name) for name in _TF_DTYPES}
    return {
        c["name"]: tf.io.FixedLenFeature([], dtypes[c["tf"]["dtype"]])
        for c in _DECLARED
        if c["name"] in names
    }


def columns_of_tfrecord(paths: Sequence[Path]) -> tuple[str, ...]:
    """The columns the first record of the files holds (with no record: ``COLUMNS``)."""
    tf = tensorflow()
    compression = "GZIP" if paths and paths[0].name.endswith(".gz") else ""
    for first in tf.data.TFRecordDataset(
        [str(p) for p in paths[:1]], compression_type=compression
    ).take(1):
        features = tf.train.Example.FromString(first.numpy()).features.feature
        # a protobuf map has no order: take the declared one
        names = [c["name"] for c in _DECLARED if c["name"] in features]
        unknown = sorted(set(features) - set(names))
        if unknown:
            raise ExplorationDataError(
                f"the TFRecord records have features the row schema does not declare: "
                f"{unknown} (is this client older than the service?)",
                code="DATA_LOSS",
            )
        return columns_in_file(names)
    return COLUMNS


def tfrecord_dataset(
    paths: Sequence[Path],
    parse: bool = True,
    batch_size: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> Any:
    """A ``tf.data.Dataset`` of the files in order (GZIP when they end in ``.gz``).

    With ``parse`` each record is parsed with ``tf.io.parse_single_example`` and
    the notebook's spec, as the notebook did; without it the records are raw.
    With ``batch_size`` the records are batched first and each batch parsed with
    ``tf.io.parse_example`` (the same spec, about ten times faster per row).
    The spec's columns are those of a dataset with ``config`` (its metadata's
    ``config``), or without one those the first record holds.
    """
    tf = tensorflow()
    gzip = {p.name.endswith(".gz") for p in paths}
    if len(gzip) != 1:
        raise ExplorationDataError(
            "the TFRecord files mix GZIP and uncompressed", code="FAILED_PRECONDITION"
        )
    compression = "GZIP" if gzip.pop() else ""
    if batch_size is not None and batch_size < 1:
        raise ExplorationDataError(
            f"batch_size must be at least 1, got {batch_size}",
            code="INVALID_ARGUMENT",
            field="batch_size",
        )
    dataset = tf.data.TFRecordDataset([str(p) for p in paths], compression_type=compression)
    if batch_size is not None:
        dataset = dataset.batch(batch_size)
    if not parse:
        return dataset
    spec = (
        feature_spec(config)
        if config is not None
        else feature_spec(columns=columns_of_tfrecord(paths))
    )
    if batch_size is not None:
        return dataset.map(
            lambda records: tf.io.parse_example(records, spec),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return dataset.map(
        lambda record: tf.io.parse_single_example(record, spec),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
