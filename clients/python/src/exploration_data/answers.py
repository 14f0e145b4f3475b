"""The loaders' answers (docs/design.md §5), read into typed values: one file or shards alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checksums import Expected
from .errors import ExplorationDataError

FORMATS = ("parquet", "tfrecord")


@dataclass(frozen=True)
class DataFile:
    """One file of a version: the single file, or one shard."""

    url: str
    object: str
    size_bytes: int | None
    crc32c: str | None
    md5: str | None
    rows: int | None = None

    @property
    def name(self) -> str:
        """The object's base name (``dataset_v3-00000-of-00004.tfrecord``)."""
        return self.object.rstrip("/").rsplit("/", 1)[-1]

    @property
    def expected(self) -> Expected:
        """What the downloaded bytes must be."""
        return Expected(self.size_bytes, self.crc32c, self.md5)

    def __repr__(self) -> str:  # the signed URL is a credential: never shown
        return (
            f"DataFile(object={self.object!r}, size_bytes={self.size_bytes}, "
            f"crc32c={self.crc32c!r})"
        )


@dataclass(frozen=True)
class Files:
    """A loader's answer: the version and its files in row order."""

    version: int
    expires_at: str | None
    files: tuple[DataFile, ...]
    sharded: bool

    @property
    def size_bytes(self) -> int:
        """Bytes of all files (those whose size is known)."""
        return sum(f.size_bytes or 0 for f in self.files)


def _malformed(what: str, why: str) -> ExplorationDataError:
    return ExplorationDataError(f"{what} answered an unexpected shape: {why}", code="INTERNAL")


def _optional_str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def _optional_int(entry: dict[str, Any], key: str) -> int | None:
    value = entry.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _file(entry: Any, what: str) -> DataFile:
    if not isinstance(entry, dict):
        raise _malformed(what, "a file entry is not an object")
    url, name = entry.get("url"), entry.get("object")
    if not isinstance(url, str) or not isinstance(name, str):
        raise _malformed(what, "a file has no url or object")
    return DataFile(
        url=url,
        object=name,
        size_bytes=_optional_int(entry, "sizeBytes"),
        crc32c=_optional_str(entry, "crc32c"),
        md5=_optional_str(entry, "md5"),
        rows=_optional_int(entry, "rows"),
    )


def parse_files(answer: Any, what: str) -> Files:
    """``{version, url, object, ...}`` or ``{version, shards: [{url, object, ...}]}``."""
    if not isinstance(answer, dict):
        raise _malformed(what, "not a JSON object")
    version = answer.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _malformed(what, "no version")
    expires = _optional_str(answer, "expiresAt")
    shards = answer.get("shards")
    if shards is not None:
        if not isinstance(shards, list) or not shards:
            raise _malformed(what, "shards is not a non-empty list")
        files = tuple(_file(s, what) for s in shards)
        return Files(version, expires, files, sharded=True)
    return Files(version, expires, (_file(answer, what),), sharded=False)
