"""The files as the notebook read them: pandas for Parquet, tf.data for TFRecord.

TensorFlow is imported only by the TFRecord functions (it is an optional
extra, ``pip install './clients/python[tensorflow]'`` from the repository, as
the README says: the package is not on any index; it takes seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ExplorationDataError

COLUMNS = ("target_store_id", "creative_pack_id", "label")


def read_parquet(
    sources: Sequence[Path | bytes], columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """One DataFrame of the files (or their bytes) in order, with a 0..n-1 index.

    Strings are pandas' default for Arrow strings (``object`` in pandas 2, ``str``
    in pandas 3) and ``label`` is ``int64``, as ``pd.read_parquet`` gives.
    """
    tables = []
    for source in sources:
        where = pa.BufferReader(source) if isinstance(source, bytes) else str(source)
        tables.append(pq.read_table(where, columns=list(columns) if columns else None))
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    frame: pd.DataFrame = table.to_pandas()
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


def feature_spec() -> dict[str, Any]:
    """The notebook's feature spec: two ``FixedLenFeature([], tf.string)``, one ``tf.int64``."""
    tf = tensorflow()
    return {
        "target_store_id": tf.io.FixedLenFeature([], tf.string),
        "creative_pack_id": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64),
    }


def tfrecord_dataset(
    paths: Sequence[Path], parse: bool = True, batch_size: int | None = None
) -> Any:
    """A ``tf.data.Dataset`` of the files in order (GZIP when they end in ``.gz``).

    With ``parse`` each record is parsed with ``tf.io.parse_single_example`` and
    the notebook's spec, as the notebook did; without it the records are raw.
    With ``batch_size`` the records are batched first and each batch parsed with
    ``tf.io.parse_example`` (the same spec, about ten times faster per row).
    """
    tf = tensorflow()
    gzip = {p.name.endswith(".gz") for p in paths}
    if len(gzip) != 1:
        raise ExplorationDataError(
            "the TFRecord files mix GZIP and uncompressed", code="FAILED_PRECONDITION"
        )
    compression = "GZIP" if gzip.pop() else ""
    dataset = tf.data.TFRecordDataset([str(p) for p in paths], compression_type=compression)
    if batch_size is not None:
        if batch_size < 1:
            raise ExplorationDataError(
                f"batch_size must be at least 1, got {batch_size}",
                code="INVALID_ARGUMENT",
                field="batch_size",
            )
        dataset = dataset.batch(batch_size)
    if not parse:
        return dataset
    spec = feature_spec()
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
