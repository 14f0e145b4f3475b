"""Loaders, downloads, cache and generate's waiting, against the fake server."""

from __future__ import annotations

import json
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import FakeServer, Reply, parquet_bytes, rows

from exploration_data import Client, ExplorationDataError

SIGNATURE = "deadbeefsecret"


def single(server: FakeServer, version: int, data: bytes, **options: Any) -> dict[str, Any]:
    [entry] = server.objects(version, {f"dataset_v{version}.parquet": data}, **options)
    answer = {"version": version, "expiresAt": "2030-01-01T00:00:00Z", **entry}
    server.route("/loadParquet", Reply(200, answer))
    return answer


def sharded(server: FakeServer, version: int, parts: list[bytes], ext: str) -> dict[str, Any]:
    n = len(parts)
    names = {f"dataset_v{version}-{k:05d}-of-{n:05d}.{ext}": p for k, p in enumerate(parts)}
    entries = server.objects(version, names)
    for entry in entries:
        entry["rows"] = 1
    return {"version": version, "expiresAt": "2030-01-01T00:00:00Z", "shards": entries}


def expected_frame(*ranges: tuple[int, int]) -> pd.DataFrame:
    data = [r for start, count in ranges for r in rows(start, count)]
    return pd.DataFrame(data, columns=["target_store_id", "creative_pack_id", "label"]).astype(
        {"label": "int64"}
    )


# ------------------------------------------------------------ load_parquet ---


def test_load_parquet_one_file_with_the_notebook_dtypes(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    single(server, 4, parquet_bytes(rows(0, 50)))
    frame = make_client().load_parquet(4)
    pd.testing.assert_frame_equal(frame, expected_frame((0, 50)))
    assert {k: str(v) for k, v in frame.dtypes.items()} == {
        "target_store_id": "object",
        "creative_pack_id": "object",
        "label": "int64",
    }
    assert frame.attrs["version"] == 4


def test_load_parquet_shards_in_order_in_parallel(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    parts = [parquet_bytes(rows(0, 30)), parquet_bytes(rows(30, 20)), parquet_bytes(rows(50, 7))]
    server.route("/loadParquet", Reply(200, sharded(server, 5, parts, "parquet")))
    frame = make_client(max_workers=3).load_parquet("latest")
    pd.testing.assert_frame_equal(frame, expected_frame((0, 57)))
    assert isinstance(frame.index, pd.RangeIndex)
    assert server.count("/objects/") == 3


def test_second_load_is_a_cache_hit_without_download(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    parts = [parquet_bytes(rows(0, 10)), parquet_bytes(rows(10, 10))]
    server.route("/loadParquet", Reply(200, sharded(server, 6, parts, "parquet")))
    client = make_client()
    first = client.load_parquet(6)
    assert server.count("/objects/") == 2
    second = make_client().load_parquet(6)  # a new client, the same cache folder
    assert server.count("/objects/") == 2
    assert server.count("/loadParquet") == 2
    pd.testing.assert_frame_equal(first, second)
    cached = sorted(p.name for p in (tmp_path / "cache" / "v6").rglob("*.parquet"))
    assert cached == ["dataset_v6-00000-of-00002.parquet", "dataset_v6-00001-of-00002.parquet"]


def test_a_tampered_cached_file_is_fetched_again(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    data = parquet_bytes(rows(0, 40))
    single(server, 7, data)
    client = make_client()
    client.load_parquet(7)
    [path] = (tmp_path / "cache" / "v7").rglob("dataset_v7.parquet")
    corrupt = bytearray(path.read_bytes())
    corrupt[len(corrupt) // 2] ^= 0xFF  # same size, one byte flipped
    path.write_bytes(bytes(corrupt))
    frame = client.load_parquet(7)
    assert server.count("/objects/") == 2
    assert path.read_bytes() == data
    pd.testing.assert_frame_equal(frame, expected_frame((0, 40)))


def test_cache_false_reads_from_the_url_into_memory(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    parts = [parquet_bytes(rows(0, 5)), parquet_bytes(rows(5, 5))]
    server.route("/loadParquet", Reply(200, sharded(server, 8, parts, "parquet")))
    frame = make_client(cache=False).load_parquet(8)
    pd.testing.assert_frame_equal(frame, expected_frame((0, 10)))
    assert not (tmp_path / "cache").exists()


def test_a_corrupt_download_is_retried_then_accepted(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    data = parquet_bytes(rows(0, 20))
    single(server, 9, data)
    server.route(
        "/objects/datasets/v9/dataset_v9.parquet",
        Reply(200, data[:-1] + bytes([data[-1] ^ 1])),
        Reply(200, data),
    )
    frame = make_client().load_parquet(9)
    assert len(frame) == 20
    assert server.count("/objects/") == 2


def test_a_download_that_never_matches_is_data_loss(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    data = parquet_bytes(rows(0, 20))
    single(server, 10, data)
    server.route("/objects/datasets/v10/dataset_v10.parquet", Reply(200, data[:-1] + b"\0"))
    with pytest.raises(ExplorationDataError) as raised:
        make_client().load_parquet(10)
    error = raised.value
    assert error.code == "DATA_LOSS"
    assert "crc32c" in error.message
    assert "after 3 tries" in error.message
    assert SIGNATURE not in str(error)
    assert server.count("/objects/") == 3
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []  # no partial file


def test_md5_is_used_when_the_loader_gives_no_crc32c(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    data = parquet_bytes(rows(0, 20))
    single(server, 11, data, md5_only=True)
    server.route(
        "/objects/datasets/v11/dataset_v11.parquet",
        Reply(200, data[:-1] + b"\0"),
        Reply(200, data),
    )
    assert len(make_client().load_parquet(11)) == 20
    assert server.count("/objects/") == 2


def test_a_truncated_download_is_retried(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    data = parquet_bytes(rows(0, 2000))
    single(server, 12, data)
    server.route(
        "/objects/datasets/v12/dataset_v12.parquet",
        Reply(200, data, truncate=len(data) // 2),
        Reply(503, b"busy", headers={"Retry-After": "0"}),
        Reply(200, data),
    )
    assert len(make_client().load_parquet(12)) == 2000
    assert server.count("/objects/") == 3


def test_an_expired_signed_url_says_so(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    single(server, 13, parquet_bytes(rows(0, 1)))
    server.route(
        "/objects/datasets/v13/dataset_v13.parquet",
        Reply(400, b"<Error><Code>ExpiredToken</Code></Error>"),
    )
    with pytest.raises(ExplorationDataError, match="may have expired") as raised:
        make_client().load_parquet(13)
    assert raised.value.http_status == 400
    assert server.count("/objects/") == 1


def test_a_malformed_loader_answer(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.route("/loadParquet", Reply(200, {"version": 1, "shards": []}))
    with pytest.raises(ExplorationDataError, match="unexpected shape") as raised:
        make_client().load_parquet(1)
    assert raised.value.code == "INTERNAL"


def test_progress_bar_when_asked_and_silence_otherwise(
    server: FakeServer, make_client: Callable[..., Client], capsys: pytest.CaptureFixture[str]
) -> None:
    single(server, 14, parquet_bytes(rows(0, 100)))
    make_client(progress=False).load_parquet(14, cache=False)
    assert capsys.readouterr().err == ""
    make_client(progress=None).load_parquet(14, cache=False)  # pytest's stderr is no terminal
    assert capsys.readouterr().err == ""
    make_client(progress=True).load_parquet(14, cache=False)
    assert "v14 dataset_v14.parquet" in capsys.readouterr().err


# ---------------------------------------------------------------- generate ---


def metadata_answer(version: int, status: str = "ready") -> dict[str, Any]:
    return {
        "version": version,
        "status": status,
        "metadata": {"version": version, "config": {"formats": ["parquet"]}},
        "url": "http://unused",
        "expiresAt": "x",
    }


def not_ready(status: str | None, message: str = "not ready yet") -> Reply:
    error: dict[str, Any] = {"code": "FAILED_PRECONDITION", "message": message, "requestId": "r"}
    if status is not None:
        error["versionStatus"] = status
    return Reply(
        409, {"error": error}, headers={"Retry-After": "2"} if status == "generating" else {}
    )


NOT_READY = not_ready("generating")


def test_generate_sends_only_the_given_fields_as_json_and_waits(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/generateDataset", Reply(201, {"version": 21, "rows": 100, "seed": 42}))
    server.route("/loadMetadata", NOT_READY, Reply(200, metadata_answer(21)))
    version = make_client().generate(nSamples=100, seed=42, formats=["parquet"])
    assert version == 21
    post = server.requests[0]
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body) == {"nSamples": 100, "seed": 42, "formats": ["parquet"]}
    assert server.count("/loadMetadata") == 2


def test_generate_sharded_202_polls_until_ready(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route(
        "/generateDataset",
        Reply(202, {"version": 22, "status": "generating", "shards": 4, "rows": 4, "seed": 1}),
    )
    server.route(
        "/loadMetadata",
        NOT_READY,
        NOT_READY,
        Reply(200, metadata_answer(22, "generating")),
        Reply(200, metadata_answer(22)),
    )
    assert make_client().generate(nSamples=4, shards=4) == 22
    assert json.loads(server.requests[0].body) == {"nSamples": 4, "shards": 4}
    assert server.count("/loadMetadata") == 4


def test_a_failed_version_raises_at_once(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/generateDataset", Reply(202, {"version": 23, "status": "generating"}))
    server.route(
        "/loadMetadata",
        NOT_READY,
        not_ready(
            "failed", "dataset version 23 failed and will never be ready: shard 2 kept failing"
        ),
    )
    started = time.monotonic()
    with pytest.raises(ExplorationDataError) as raised:
        make_client().generate(nSamples=4, shards=4, timeout=30)
    assert time.monotonic() - started < 2
    assert raised.value.code == "FAILED_PRECONDITION"
    assert raised.value.version_status == "failed"
    assert "shard 2 kept failing" in raised.value.message
    assert "version status: failed" in str(raised.value)
    assert server.count("/loadMetadata") == 2
    assert server.count("/listDatasets") == 0


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("failed", "still generating (a wording the client ignores)"),
        (None, "not ready yet"),
        ("paused", "not ready yet"),
    ],
)
def test_the_wait_switches_on_version_status_not_on_the_message(
    server: FakeServer, make_client: Callable[..., Client], status: str | None, message: str
) -> None:
    server.route("/loadMetadata", not_ready(status, message))
    with pytest.raises(ExplorationDataError) as raised:
        make_client().wait_ready(27, timeout=30)
    assert raised.value.http_status == 409
    assert raised.value.version_status == (status if status == "failed" else None)
    assert raised.value.message == message
    assert server.count("/loadMetadata") == 1


def test_the_error_keeps_the_version_status_through_pickle(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/loadMetadata", NOT_READY)
    with pytest.raises(ExplorationDataError) as raised:
        make_client().load_metadata(28)
    assert raised.value.version_status == "generating"
    copy = pickle.loads(pickle.dumps(raised.value))  # noqa: S301 - our own object
    assert (copy.version_status, copy.http_status) == ("generating", 409)
    assert "version_status='generating'" in repr(raised.value)


def test_a_failed_status_in_the_metadata_answer_raises(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route("/loadMetadata", Reply(200, metadata_answer(24, "failed")))
    with pytest.raises(ExplorationDataError, match="failed") as raised:
        make_client().wait_ready(24)
    assert raised.value.code == "FAILED_PRECONDITION"


def test_waiting_is_bounded(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.route("/loadMetadata", NOT_READY)
    started = time.monotonic()
    with pytest.raises(ExplorationDataError) as raised:
        make_client().wait_ready(25, timeout=0.3)
    elapsed = time.monotonic() - started
    assert raised.value.code == "DEADLINE_EXCEEDED"
    assert "still generating after 0.3 s" in raised.value.message
    assert 0.2 <= elapsed < 2


def test_generate_400_names_the_field(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route(
        "/generateDataset",
        Reply(
            400,
            {
                "error": {
                    "code": "INVALID_ARGUMENT",
                    "message": "nSamples must be an integer in 1..1000000000, got 0",
                    "field": "nSamples",
                    "requestId": "abc",
                }
            },
        ),
    )
    with pytest.raises(ExplorationDataError) as raised:
        make_client().generate(nSamples=0)
    assert (raised.value.field, raised.value.request_id) == ("nSamples", "abc")


# ----------------------------------------------------------- list_datasets ---


def test_list_datasets_follows_pages_up_to_the_limit(
    server: FakeServer, make_client: Callable[..., Client]
) -> None:
    server.route(
        "/listDatasets",
        Reply(200, {"datasets": [{"version": 3}, {"version": 2}], "nextPageToken": "t"}),
        Reply(200, {"datasets": [{"version": 1}], "nextPageToken": None}),
    )
    assert [d["version"] for d in make_client().list_datasets()] == [3, 2, 1]
    assert server.requests[1].query == {"limit": ["100"], "pageToken": ["t"]}


def test_list_datasets_limit(server: FakeServer, make_client: Callable[..., Client]) -> None:
    server.route(
        "/listDatasets",
        Reply(200, {"datasets": [{"version": 3}, {"version": 2}], "nextPageToken": "t"}),
    )
    assert [d["version"] for d in make_client().list_datasets(limit=2)] == [3, 2]
    assert server.requests[0].query == {"limit": ["2"]}
    assert server.count("/listDatasets") == 1


# ---------------------------------------------------------------- download ---


def test_download_writes_verified_files_and_metadata(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    parts = [parquet_bytes(rows(0, 5)), parquet_bytes(rows(5, 5))]
    metadata = {"version": 30, "config": {"formats": ["parquet"]}, "pair_probs": {"c": 0.5}}
    server.route(
        "/objects/datasets/v30/metadata_v30.json", Reply(200, json.dumps(metadata).encode())
    )
    server.route(
        "/loadMetadata",
        Reply(
            200,
            {
                "version": 30,
                "status": "ready",
                "metadata": metadata,
                "url": f"{server.url}/objects/datasets/v30/metadata_v30.json?X-Goog-Signature=s",
                "expiresAt": "x",
            },
        ),
    )
    server.route("/loadParquet", Reply(200, sharded(server, 30, parts, "parquet")))
    out = tmp_path / "data"
    paths = make_client().download("latest", out)
    assert [p.name for p in paths] == [
        "dataset_v30-00000-of-00002.parquet",
        "dataset_v30-00001-of-00002.parquet",
        "metadata_v30.json",
    ]
    assert [p.read_bytes() for p in paths[:2]] == parts
    assert json.loads(paths[2].read_text()) == metadata
    [loader] = [r for r in server.requests if r.path == "/loadParquet"]
    assert loader.query == {"version": ["30"]}  # "latest" resolved once, by loadMetadata
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in paths]  # no partial files

    again = make_client().download(30, out)  # same files: kept, nothing downloaded
    assert again == paths
    assert server.count("/objects/") == 3

    paths[0].write_bytes(b"something else")
    with pytest.raises(ExplorationDataError) as raised:
        make_client().download(30, out)
    assert raised.value.code == "ALREADY_EXISTS"
    assert paths[0].read_bytes() == b"something else"  # never overwritten


# ---------------------------------------------------------------- tfrecord ---


def test_load_tfrecord_gzip_shards_with_the_notebook_spec(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    tf = pytest.importorskip("tensorflow")

    def shard(start: int, count: int) -> bytes:
        path = tmp_path / f"shard-{start}.tfrecord.gz"
        with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
            for target, creative, label in rows(start, count):
                example = tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            "target_store_id": tf.train.Feature(
                                bytes_list=tf.train.BytesList(value=[target.encode()])
                            ),
                            "creative_pack_id": tf.train.Feature(
                                bytes_list=tf.train.BytesList(value=[creative.encode()])
                            ),
                            "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                        }
                    )
                )
                writer.write(example.SerializeToString())
        return path.read_bytes()

    parts = [shard(0, 6), shard(6, 4)]
    server.route("/loadTfrecord", Reply(200, sharded(server, 31, parts, "tfrecord.gz")))
    dataset = make_client().load_tfrecord(31)
    records = [
        (r["target_store_id"].decode(), r["creative_pack_id"].decode(), int(r["label"]))
        for r in dataset.as_numpy_iterator()
    ]
    assert records == rows(0, 10)
    assert dataset.element_spec["label"].dtype == tf.int64
    assert dataset.element_spec["target_store_id"].dtype == tf.string
    raw = make_client().load_tfrecord(31, parse=False)
    assert sum(1 for _ in raw) == 10
    batches = list(make_client().load_tfrecord(31, batch_size=4).as_numpy_iterator())
    assert [len(b["label"]) for b in batches] == [4, 4, 2]
    assert [int(x) for b in batches for x in b["label"]] == [r[2] for r in rows(0, 10)]
    assert server.count("/objects/") == 2  # the second load came from the cache


# ------------------------------------------------------ module-level names ---


def test_the_notebook_names_at_module_level(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import exploration_data

    single(server, 41, parquet_bytes(rows(0, 12)))
    server.route("/loadMetadata", Reply(200, metadata_answer(41)))
    options = {"cache_dir": tmp_path / "c", "progress": False}
    frame = exploration_data.load_parquet(41, base_url=server.url, **options)
    pd.testing.assert_frame_equal(frame, expected_frame((0, 12)))
    monkeypatch.setenv("EXPLORATION_DATA_URL", server.url)
    assert exploration_data.load_metadata("latest", **options)["version"] == 41
    assert server.requests[-1].query == {"version": ["latest"]}
    assert Client().base_url == server.url
    monkeypatch.delenv("EXPLORATION_DATA_URL")
    assert Client().base_url == "http://127.0.0.1:8080"


def test_one_failing_shard_fails_the_load_without_waiting_for_the_rest(
    server: FakeServer, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    parts = [parquet_bytes(rows(0, 5)), parquet_bytes(rows(5, 5)), parquet_bytes(rows(10, 5))]
    answer = sharded(server, 42, parts, "parquet")
    server.route("/loadParquet", Reply(200, answer))
    server.route(
        "/objects/datasets/v42/dataset_v42-00000-of-00003.parquet",
        Reply(404, b"<Error><Code>NoSuchKey</Code></Error>"),
    )
    slow = "/objects/datasets/v42/dataset_v42-00002-of-00003.parquet"
    server.route(slow, Reply(200, parts[2], delay=2.0))
    started = time.monotonic()
    with pytest.raises(ExplorationDataError) as raised:
        make_client(max_workers=3).load_parquet(42)
    assert time.monotonic() - started < 1.5
    assert raised.value.http_status == 404
    assert "dataset_v42-00000-of-00003.parquet" in raised.value.message


def test_load_tfrecord_without_tensorflow_gives_the_readmes_install_command(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # `import tensorflow` fails
    with pytest.raises(ExplorationDataError) as raised:
        Client(server.url, progress=False).load_tfrecord(3)  # before any request
    assert raised.value.code == "FAILED_PRECONDITION"
    assert server.requests == []
    command = "pip install './clients/python[tensorflow]'"
    assert command in str(raised.value)
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert command in readme.read_text(encoding="utf-8")
