"""Private media storage: files under DATA_DIR/media, named by random keys, per candidate."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class MediaStore:
    """Stores uploads outside any public path; only the API hands them out, after checks."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, candidate_id: int, kind: str, data: bytes, *, suffix: str) -> str:
        """Save `data`; returns the key to keep in the database."""
        folder = self.root / str(candidate_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = f"{candidate_id}/{kind}-{secrets.token_hex(12)}{suffix}"
        path = self.root / key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove a file that is no longer needed (a job's input); gone already is fine."""
        self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key outside the media store")
        return path
