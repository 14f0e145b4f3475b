"""The client against the real local stack: emulators, functions, signed URLs."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from conftest import (
    CountingProxy,
    cli_generate,
    file_digest,
    frame_digest,
    run_cli,
    sha256_of,
    tf_digest,
)

from exploration_data import Client, ExplorationDataError, ope

INPUTS: dict[str, Any] = {
    "nSamples": 70_000,
    "seed": 8,
    "nTargetStoreIds": 5,
    "nCreativePackIds": 40,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One version generated through the client, and the CLI's files for the same inputs."""
    base = os.environ["EXPLORATION_DATA_TEST_URL"]
    cache = tmp_path_factory.mktemp("cache")
    client = Client(base, cache_dir=cache, progress=False)
    started = time.monotonic()
    version = client.generate(**INPUTS)
    seconds = time.monotonic() - started
    cli = cli_generate(tmp_path_factory.mktemp("cli"), **INPUTS)
    return {"version": version, "cli": cli, "seconds": seconds, "cache": cache}


def test_generate_waits_until_ready(generated: dict[str, Any], client: Client) -> None:
    version = generated["version"]
    listed = {d["version"]: d for d in client.list_datasets()}
    assert listed[version]["status"] == "ready"
    assert listed[version]["rows"] == INPUTS["nSamples"]
    assert generated["seconds"] < 120


def test_load_parquet_equals_the_cli_file(generated: dict[str, Any], client: Client) -> None:
    frame = client.load_parquet(generated["version"])
    cli_file = generated["cli"] / "dataset_v1.parquet"
    assert len(frame) == INPUTS["nSamples"]
    assert list(frame.columns) == ["target_store_id", "creative_pack_id", "label"]
    assert str(frame.dtypes["label"]) == "int64"
    assert str(frame.dtypes["target_store_id"]) in ("object", "string", "str")
    assert frame_digest(frame) == file_digest(cli_file)
    [cached] = (client.cache.root / f"v{generated['version']}").rglob("*.parquet")
    assert sha256_of(cached) == sha256_of(cli_file)  # byte-identical, as docs/design.md §9 says


def test_load_parquet_without_cache_reads_the_same_rows(
    generated: dict[str, Any], base_url: str, tmp_path: Path
) -> None:
    client = Client(base_url, cache=False, cache_dir=tmp_path / "none", progress=False)
    frame = client.load_parquet(generated["version"])
    assert frame_digest(frame) == file_digest(generated["cli"] / "dataset_v1.parquet")
    assert not (tmp_path / "none").exists()


def test_load_tfrecord_parses_with_the_notebook_spec_and_matches(
    generated: dict[str, Any], client: Client
) -> None:
    tf = pytest.importorskip("tensorflow")
    dataset = client.load_tfrecord(generated["version"])
    spec = dataset.element_spec
    assert {k: v.dtype for k, v in spec.items()} == {
        "target_store_id": tf.string,
        "creative_pack_id": tf.string,
        "label": tf.int64,
    }
    assert all(v.shape == () for v in spec.values())
    digest, rows = tf_digest(dataset)
    assert rows == INPUTS["nSamples"]
    assert digest == file_digest(generated["cli"] / "dataset_v1.parquet")
    [cached] = (client.cache.root / f"v{generated['version']}").rglob("*.tfrecord")
    assert sha256_of(cached) == sha256_of(generated["cli"] / "dataset_v1.tfrecord")


def test_gzip_tfrecord(client: Client, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    inputs: dict[str, Any] = {"nSamples": 3000, "seed": 9, "tfrecordCompression": "GZIP"}
    version = client.generate(**inputs)
    files = client.files("tfrecord", version)
    assert [f.name for f in files.files] == [f"dataset_v{version}.tfrecord.gz"]
    digest, rows = tf_digest(client.load_tfrecord(version))
    cli = cli_generate(tmp_path / "cli", **inputs)
    assert rows == 3000
    assert digest == file_digest(cli / "dataset_v1.parquet")


def test_load_metadata_equals_the_metadata_object(
    generated: dict[str, Any], client: Client, tmp_path: Path
) -> None:
    version = generated["version"]
    metadata = client.load_metadata(version)
    answer = requests.get(f"{client.base_url}/loadMetadata?version={version}", timeout=30).json()
    stored = requests.get(answer["url"], timeout=30).json()  # the object itself, signed URL
    assert metadata == stored
    assert metadata["version"] == version
    cli = json.loads((generated["cli"] / "metadata_v1.json").read_text())
    for key in ("target_store_id_probs", "creative_pack_id_probs", "pair_probs", "config"):
        assert metadata[key] == cli[key], key
    latest = client.load_metadata("latest")
    assert latest["version"] >= version


def test_download_then_the_cli_verifies_the_folder(
    generated: dict[str, Any], client: Client, tmp_path: Path
) -> None:
    version = generated["version"]
    out = tmp_path / "data"
    paths = client.download(version, out)
    assert [p.name for p in paths] == [
        f"dataset_v{version}.parquet",
        f"dataset_v{version}.tfrecord",
        f"metadata_v{version}.json",
    ]
    report = json.loads(run_cli("verify", str(out), "--dataset-version", str(version), "--json"))
    assert report["ok"] is True, report


def test_to_obp_and_to_vw_of_the_service_equal_those_of_the_cli_files(
    generated: dict[str, Any], client: Client, tmp_path: Path
) -> None:
    # A version without a logging policy: pscore is 1/|C_t| from the metadata.
    version = generated["version"]
    feedback = client.to_obp(version, dense=True)
    local = ope.to_obp(generated["cli"], dense=True)
    assert feedback["n_rounds"] == INPUTS["nSamples"]
    assert feedback["n_actions"] == INPUTS["nCreativePackIds"]
    for key in ("action", "reward", "pscore", "context", "action_context", "pi_b"):
        np.testing.assert_array_equal(feedback[key], local[key])
    metadata = client.load_metadata(version)
    frame = client.load_parquet(version)
    ids = ope.creative_ids(metadata)
    assert [ids[a] for a in feedback["action"][:1000]] == frame["creative_pack_id"][:1000].tolist()
    sizes = Counter(metadata["creative_pack_target"].values())  # |C_t|
    assert feedback["pscore"].tolist() == [1 / sizes[t] for t in frame["target_store_id"]]
    np.testing.assert_allclose(feedback["pi_b"].sum(axis=1), 1.0, rtol=0, atol=1e-12)
    best = client.action_dist(version, {"type": "epsilon-greedy", "epsilon": 0})
    assert best.shape == (INPUTS["nSamples"], INPUTS["nCreativePackIds"], 1)
    served = client.to_vw(version, tmp_path / "service.vw").read_bytes()
    assert served == ope.to_vw(generated["cli"], tmp_path / "cli.vw").read_bytes()
    assert served.count(b"shared |s target=") == INPUTS["nSamples"]


def test_a_cache_hit_makes_no_download(
    generated: dict[str, Any],
    proxy: CountingProxy,
    client_through: Callable[[CountingProxy], Client],
) -> None:
    version = generated["version"]
    name = f"dataset_v{version}.parquet"

    def downloads() -> int:
        return proxy.count(lambda path: path.endswith(f"/{name}"))

    def loader_calls() -> int:
        return proxy.count(lambda path: path == "/loadParquet")

    client = client_through(proxy)
    first = client.load_parquet(version)
    assert (downloads(), loader_calls()) == (1, 1)
    started = time.monotonic()
    second = client_through(proxy).load_parquet(version)  # a new client, same cache folder
    hit_seconds = time.monotonic() - started
    assert (downloads(), loader_calls()) == (1, 2)
    assert frame_digest(first) == frame_digest(second)
    assert hit_seconds < 5


def test_a_tampered_cached_file_is_detected_and_fetched_again(
    generated: dict[str, Any],
    proxy: CountingProxy,
    client_through: Callable[[CountingProxy], Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    version = generated["version"]
    name = f"dataset_v{version}.parquet"
    client = client_through(proxy)
    client.load_parquet(version)
    [cached] = (client.cache.root / f"v{version}").rglob(name)
    original = cached.read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 3] ^= 0x01
    cached.write_bytes(bytes(tampered))
    frame = client.load_parquet(version)
    assert proxy.count(lambda path: path.endswith(f"/{name}")) == 2
    assert cached.read_bytes() == original
    assert frame_digest(frame) == file_digest(generated["cli"] / "dataset_v1.parquet")
    assert "does not match the loader" in caplog.text


# ---------------------------------------------------------- error mapping ---


def test_400_names_the_field(client: Client) -> None:
    with pytest.raises(ExplorationDataError) as raised:
        client.generate(nSamples=0)
    error = raised.value
    assert (error.http_status, error.code, error.field) == (400, "INVALID_ARGUMENT", "nSamples")
    assert "nSamples" in error.message
    assert error.request_id


def test_400_for_an_unknown_field_value(client: Client) -> None:
    with pytest.raises(ExplorationDataError) as raised:
        client.generate(nSamples=10, formats=["csv"])
    assert (raised.value.http_status, raised.value.field) == (400, "formats")


def test_404_no_such_version(client: Client) -> None:
    with pytest.raises(ExplorationDataError) as raised:
        client.load_parquet(987_654)
    assert (raised.value.http_status, raised.value.code) == (404, "NOT_FOUND")
    assert raised.value.request_id


def test_409_a_version_still_generating(client: Client) -> None:
    version = int(os.environ["EXPLORATION_DATA_GENERATING_VERSION"])
    with pytest.raises(ExplorationDataError) as raised:
        client.load_parquet(version)
    assert (raised.value.http_status, raised.value.code) == (409, "FAILED_PRECONDITION")
    assert raised.value.version_status == "generating"
    with pytest.raises(ExplorationDataError) as waited:
        client.wait_ready(version, timeout=1.0)
    assert waited.value.code == "DEADLINE_EXCEEDED"


def test_a_failed_version_raises_at_once(client: Client) -> None:
    version = int(os.environ["EXPLORATION_DATA_FAILED_VERSION"])
    started = time.monotonic()
    with pytest.raises(ExplorationDataError) as raised:
        client.wait_ready(version, timeout=60)
    assert time.monotonic() - started < 5
    assert raised.value.code == "FAILED_PRECONDITION"
    assert raised.value.version_status == "failed"
    assert "failed" in raised.value.message


def test_415_a_careless_content_type(base_url: str) -> None:
    """What ``requests.post(url, data=...)`` with a text type gets; the client never sends it."""
    response = requests.post(
        f"{base_url}/generateDataset",
        data=json.dumps({"nSamples": 10}),
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    error = ExplorationDataError.from_response(response, "POST generateDataset")
    assert (error.http_status, error.code) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert error.request_id


def test_the_client_sends_json(client: Client) -> None:
    """The other side of 415: what the client sends is accepted as JSON (a 400 on the value)."""
    with pytest.raises(ExplorationDataError) as raised:
        client.generate(nSamples=10, tfrecordCompression="ZSTD")
    assert (raised.value.http_status, raised.value.field) == (400, "tfrecordCompression")


# ---------------------------------------------------------------- shards ---


def test_sharded_version(client: Client, tmp_path: Path) -> None:
    """Sharding (issue 9): 202, polled to ready; the loaders' real shard lists;
    load_parquet, load_tfrecord and download over them equal the single file."""
    inputs: dict[str, Any] = {"nSamples": 140_000, "seed": 10}
    version = client.generate(shards=3, **inputs)
    names: dict[str, list[str]] = {}
    for format, ext in (("parquet", "parquet"), ("tfrecord", "tfrecord")):
        files = client.files(format, version)
        assert files.sharded
        names[format] = [f"dataset_v{version}-{k:05d}-of-00003.{ext}" for k in range(3)]
        assert [f.name for f in files.files] == names[format]
        assert [f.rows for f in files.files] == [65_536, 65_536, 8_928]
        assert all(f.size_bytes and f.crc32c and f.md5 for f in files.files)
    cli = cli_generate(tmp_path / "cli", **inputs)
    single = file_digest(cli / "dataset_v1.parquet")
    frame = client.load_parquet(version)
    assert len(frame) == 140_000
    assert frame_digest(frame) == single
    digest, rows = tf_digest(client.load_tfrecord(version))
    assert (rows, digest) == (140_000, single)

    out = tmp_path / "data"
    paths = client.download(version, out)
    assert [p.name for p in paths] == [
        *names["parquet"],
        *names["tfrecord"],
        f"metadata_v{version}.json",
    ]
    # docs/design.md §3: the uncompressed TFRecord shards concatenated are the single file.
    joined = b"".join((out / name).read_bytes() for name in names["tfrecord"])
    assert joined == (cli / "dataset_v1.tfrecord").read_bytes()
    report = json.loads(run_cli("verify", str(out), "--dataset-version", str(version), "--json"))
    assert report["ok"] is True, [c for c in report["checks"] if not c["ok"]]
