"""Downloaded files kept by (version, object, checksum), checked again at every use.

Objects of a version are immutable, so a file whose checksum is the loader's is
the file: a hit costs one CRC-32C pass over it (~11 GB/s), no download. A file
that no longer matches (tampered, truncated) is deleted and fetched again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from .answers import DataFile
from .checksums import file_mismatch

log = logging.getLogger("exploration_data")


def default_cache_dir() -> Path:
    """``$EXPLORATION_DATA_CLIENT_CACHE``, else ``$XDG_CACHE_HOME/exploration-data/client``."""
    explicit = os.environ.get("EXPLORATION_DATA_CLIENT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "exploration-data" / "client"


class FileCache:
    """A folder of verified downloads."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, version: int, file: DataFile) -> Path:
        """Where ``file`` of ``version`` is kept: ``v{N}/{key}/{name}``.

        The key hashes the object's full name (bucket included) and its checksum,
        so two stacks whose version N differ never share a file.
        """
        identity = f"{file.object}\n{file.crc32c or ''}\n{file.md5 or ''}\n{file.size_bytes}"
        key = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
        return self.root / f"v{version}" / key / file.name

    def lookup(self, version: int, file: DataFile) -> Path | None:
        """The cached file if present and still matching its checksum, else None."""
        path = self.path_of(version, file)
        if not path.is_file():
            return None
        why = file_mismatch(path, file.expected)
        if why is None:
            log.debug("cache hit: %s", path)
            return path
        log.warning("cached %s does not match the loader (%s); fetching it again", path, why)
        path.unlink(missing_ok=True)
        return None
