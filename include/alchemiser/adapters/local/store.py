"""The ObjectStore port on a local folder: the embedded default's state, kept on one machine.

The trade ledger relies on two conditional writes; here they hold across processes (the Local
and Celery executors write concurrently) as long as they share the folder's filesystem:

- create: the body is written and fsynced to a temp file, then hard-linked to the key's path.
  link(2) fails with EEXIST if the path exists, atomically, so exactly one writer wins, and a
  reader never sees a half-written object (the path appears only with its whole body).
- replace: under an exclusive flock on the key's lock file, the current body's hash is
  compared with the caller's ETag, then a fsynced temp file is renamed over the key's path
  (rename(2) is atomic: readers see the old or the new body, never a mix).

The ETag is the body's SHA-256, so it needs no side file and a read returns the ETag of
exactly the bytes it read. Keys map to paths below the folder; a key that would escape it (an
absolute path, `..`, an empty or hidden segment) is refused. `.tmp/` and `.locks/` hold the
temp and lock files and are never listed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from alchemiser.domain.errors import (
    AlchemiserError,
    ArtifactNotFoundError,
    ObjectChangedError,
    ObjectExistsError,
)

_TMP = ".tmp"
_LOCKS = ".locks"
_Publish = Callable[[str], None]
"""Puts a complete temp file at the key's path (rename to overwrite, link to create)."""


class LocalStoreError(AlchemiserError):
    """The local folder refused a read or write, or a key is not a safe relative path."""


class LocalObjectStore:
    """Objects as files under `<state_dir>/<bucket>/`; one file per key, written atomically."""

    def __init__(self, state_dir: Path, bucket: str) -> None:
        self._root = (state_dir / _segment(bucket, "bucket")).absolute()
        try:
            for folder in (self._root, self._root / _TMP, self._root / _LOCKS):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LocalStoreError(f"cannot create the state folder {self._root}: {exc}") from exc

    @property
    def bucket(self) -> str:
        """Return the folder's file:// URL: where every key of this store lives."""
        return self._root.as_uri()

    @property
    def root(self) -> Path:
        """Return the folder the keys live in."""
        return self._root

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        """Write (or overwrite) one object; the type is implied by the key's extension."""
        path = self._path(key)
        with self._locked(key):
            self._write(path, body, key, lambda temp: os.replace(temp, path))

    def get(self, key: str) -> bytes:
        """Read one object; a missing one is ArtifactNotFoundError."""
        return self.read(key)[0]

    def read(self, key: str) -> tuple[bytes, str]:
        """Return body and ETag (its SHA-256)."""
        path = self._path(key)
        try:
            body = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ArtifactNotFoundError(f"{path} does not exist (key {key})") from exc
        except OSError as exc:
            raise LocalStoreError(f"read {path}: {exc}") from exc
        return body, _etag(body)

    def list_keys(self, prefix: str) -> tuple[str, ...]:
        """Return every key under `prefix`, sorted (the temp and lock folders excluded)."""
        folder = prefix[: prefix.rfind("/") + 1]
        start = self._path(folder.rstrip("/")) if folder else self._root
        keys: list[str] = []
        for top, dirs, files in os.walk(start):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            relative = Path(top).relative_to(self._root).as_posix()
            base = "" if relative == "." else f"{relative}/"
            keys.extend(f"{base}{name}" for name in files if not name.startswith("."))
        return tuple(sorted(k for k in keys if k.startswith(prefix)))

    def link(self, key: str) -> str:
        """Return the object's file:// URL (opens in a browser on this machine)."""
        return self._path(key).as_uri()

    def create(self, key: str, body: bytes) -> str:
        """Write only if absent (hard link of a complete temp file); return the ETag."""
        path = self._path(key)

        def link(temp: str) -> None:
            try:
                os.link(temp, path)
            except FileExistsError as exc:
                raise ObjectExistsError(f"{path} already exists (key {key})") from exc

        self._write(path, body, key, link)
        return _etag(body)

    def replace(self, key: str, body: bytes, etag: str) -> str:
        """Overwrite only if the body still hashes to `etag` (checked under the key's lock)."""
        path = self._path(key)
        with self._locked(key):
            try:
                current = path.read_bytes()
            except FileNotFoundError:
                current = None
            except OSError as exc:
                raise LocalStoreError(f"replace {path}: {exc}") from exc
            if current is None or _etag(current) != etag:
                raise ObjectChangedError(f"{path} changed since it was read (key {key})")
            self._write(path, body, key, lambda temp: os.replace(temp, path))
        return _etag(body)

    def _path(self, key: str) -> Path:
        """Map a key to its file, refusing anything that is not a plain relative path."""
        parts = key.split("/")
        path = self._root.joinpath(*(_segment(p, f"key {key!r}") for p in parts))
        if not path.resolve().is_relative_to(self._root.resolve()):
            raise LocalStoreError(f"key {key!r} leads outside {self._root}")
        return path

    def _write(self, path: Path, body: bytes, key: str, publish: _Publish) -> None:
        """Write `body` to a fsynced temp file, publish it at `path`, fsync the folder."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self._root / _TMP)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(body)
                    out.flush()
                    os.fsync(out.fileno())
                publish(temp)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            _fsync_folder(path.parent)
        except (ObjectExistsError, ObjectChangedError):
            raise
        except OSError as exc:
            raise LocalStoreError(f"write {path} (key {key}): {exc}") from exc

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        """Hold an exclusive flock on the key's lock file (released if the process dies)."""
        name = hashlib.sha256(key.encode()).hexdigest()[:40]
        lock_path = self._root / _LOCKS / f"{name}.lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LocalStoreError(f"cannot open lock {lock_path} (key {key}): {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the flock


def _segment(part: str, what: str) -> str:
    if not part or part in {".", ".."} or part.startswith(".") or "\0" in part or "\\" in part:
        raise LocalStoreError(f"{what}: {part!r} is not a plain path segment")
    return part


def _etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()}"'


def _fsync_folder(folder: Path) -> None:
    """Make a rename or link durable: the new directory entry reaches the disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some filesystems cannot fsync a directory
            raise
    finally:
        os.close(fd)
