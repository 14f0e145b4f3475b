"""The row schema the package ships (row_schema.json) and what the readers derive from it."""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import exploration_data
from exploration_data import ExplorationDataError, readers

BASE = ("target_store_id", "creative_pack_id", "label")


def column(name: str, value_type: str, present_when: str | None) -> dict[str, Any]:
    """A declared column as the service's rowSchemaDescription() writes it (the policy's two)."""
    kinds = {
        "float64": ("DOUBLE", "float_list", "float32", "float32-bits", ["float64"], ["double"]),
        "int64": ("INT64", "int64_list", "int64", "decimal", ["int64"], ["int64"]),
    }
    parquet, kind, dtype, digest, pandas, arrow = kinds[value_type]
    return {
        "name": name,
        "valueType": value_type,
        "presentWhen": present_when,
        "parquet": {
            "type": parquet,
            "convertedType": None,
            "logicalType": None,
            "repetition": "REQUIRED",
        },
        "tf": {"kind": kind, "dtype": dtype},
        "digest": digest,
        "pandasDtypes": pandas,
        "arrowTypes": arrow,
    }


def parquet_of(columns: dict[str, pa.Array]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def base_columns(n: int) -> dict[str, pa.Array]:
    return {
        "target_store_id": pa.array([f"target_{i % 2}" for i in range(n)]),
        "creative_pack_id": pa.array([f"creative_{i % 3}" for i in range(n)]),
        "label": pa.array([i % 2 for i in range(n)], pa.int64()),
    }


def test_the_shipped_schema_is_package_data_with_the_policy_columns() -> None:
    text = (
        resources.files("exploration_data").joinpath("row_schema.json").read_text(encoding="utf-8")
    )
    shipped = json.loads(text)
    assert shipped == readers.ROW_SCHEMA
    assert [(c["name"], c["presentWhen"]) for c in shipped["columns"]] == [
        *((name, None) for name in BASE),
        ("pscore", "loggingPolicy"),
        ("policy_epoch", "loggingPolicy.adaptive"),
    ]
    assert shipped["columns"][3] == column("pscore", "float64", "loggingPolicy")
    assert shipped["columns"][4] == column("policy_epoch", "int64", "loggingPolicy.adaptive")
    assert shipped["roles"] == {
        "target": "target_store_id",
        "creative": "creative_pack_id",
        "label": "label",
    }
    assert readers.COLUMNS == BASE
    # a logging policy adds pscore (docs/design.md §12)
    assert readers.columns_for({"loggingPolicy": {"type": "uniform"}}) == (*BASE, "pscore")
    assert readers.pandas_dtypes() == {
        "target_store_id": ("object", "string", "str"),
        "creative_pack_id": ("object", "string", "str"),
        "label": ("int64",),
    }
    # the interop readers load the same file
    repo = Path(__file__).resolve().parents[4]
    assert (repo / "test" / "interop" / "row_schema.py").is_file()
    assert (
        json.loads((repo / "clients/python/src/exploration_data/row_schema.json").read_text())
        == shipped
    )


def test_the_columns_of_a_config_are_the_declared_ones_present_for_it() -> None:
    assert readers.columns_for() == BASE
    assert readers.columns_for({}) == BASE
    assert readers.columns_for({"loggingPolicy": None}) == BASE
    assert readers.columns_for({"loggingPolicy": {"type": "softmax", "beta": 2}}) == (
        *BASE,
        "pscore",
    )
    adaptive = {
        "loggingPolicy": {"type": "softmax", "beta": 2, "adaptive": {"updateEveryBlocks": 4}}
    }
    assert readers.columns_for(adaptive) == (*BASE, "pscore", "policy_epoch")
    assert readers.pandas_dtypes(adaptive) == {
        "target_store_id": ("object", "string", "str"),
        "creative_pack_id": ("object", "string", "str"),
        "label": ("int64",),
        "pscore": ("float64",),
        "policy_epoch": ("int64",),
    }


def test_a_file_with_a_float_column_reads_as_float64() -> None:
    data = parquet_of(
        {**base_columns(6), "pscore": pa.array([0.25, 0.5, 0.1, 0.25, 0.5, 0.1], pa.float64())}
    )
    frame = readers.read_parquet([data])
    assert list(frame.columns) == [*BASE, "pscore"]
    assert str(frame.dtypes["pscore"]) == "float64"
    assert frame["pscore"].tolist() == [0.25, 0.5, 0.1, 0.25, 0.5, 0.1]
    assert str(frame.dtypes["label"]) == "int64"


def test_a_file_whose_columns_are_no_datasets_is_refused() -> None:
    cases = {
        "unknown column": {**base_columns(2), "extra": pa.array([1, 2])},
        "label missing": {k: v for k, v in base_columns(2).items() if k != "label"},
        "out of order": {"pscore": pa.array([0.5, 0.5]), **base_columns(2)},
    }
    for what, columns in cases.items():
        with pytest.raises(ExplorationDataError) as raised:
            readers.read_parquet([parquet_of(columns)])
        assert raised.value.code == "DATA_LOSS", what
        assert "are not a dataset's columns" in raised.value.message, what
    wrong = {**base_columns(2), "pscore": pa.array(["a", "b"])}
    with pytest.raises(ExplorationDataError) as raised:
        readers.read_parquet([parquet_of(wrong)])
    assert raised.value.message == "column pscore reads as object, the row schema says ['float64']"


def test_the_feature_spec_of_a_config_and_of_a_files_first_record(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow")
    adaptive = {"loggingPolicy": {"adaptive": {"updateEveryBlocks": 1}}}
    spec = readers.feature_spec(adaptive)
    assert {k: (v.shape, v.dtype) for k, v in spec.items()} == {
        "target_store_id": ([], tf.string),
        "creative_pack_id": ([], tf.string),
        "label": ([], tf.int64),
        "pscore": ([], tf.float32),
        "policy_epoch": ([], tf.int64),
    }
    assert list(exploration_data.feature_spec()) == list(BASE)

    path = tmp_path / "d.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i in range(5):
            feature = {
                "pscore": tf.train.Feature(float_list=tf.train.FloatList(value=[0.1 * i])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 2])),
                "creative_pack_id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"c"])),
                "target_store_id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"t"])),
            }
            writer.write(
                tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            )
    assert readers.columns_of_tfrecord([path]) == (*BASE, "pscore")
    records = list(readers.tfrecord_dataset([path], batch_size=5).as_numpy_iterator())
    assert records[0]["pscore"].dtype.name == "float32"
    assert records[0]["pscore"].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], abs=1e-7)
    one = next(readers.tfrecord_dataset([path], config={"loggingPolicy": {}}).as_numpy_iterator())
    assert sorted(one) == sorted([*BASE, "pscore"])

    odd = tmp_path / "odd.tfrecord"
    with tf.io.TFRecordWriter(str(odd)) as writer:
        feature = {
            **{n: tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])) for n in BASE},
            "mystery": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0])),
        }
        writer.write(
            tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
        )
    with pytest.raises(ExplorationDataError) as raised:
        readers.tfrecord_dataset([odd])
    assert raised.value.code == "DATA_LOSS"
    assert "['mystery']" in raised.value.message
