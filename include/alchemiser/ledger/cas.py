"""Compare-and-swap updates of one JSON object: read, change, write only if nobody wrote it since.

The ledger's entries and the run history are updated this way: a writer that loses the race
reads the object again and applies its change to what the winner wrote, so no update is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from alchemiser.domain.errors import ArtifactNotFoundError, ObjectChangedError, ObjectExistsError
from alchemiser.ports import ObjectStore

M = TypeVar("M", bound=BaseModel)


def compare_and_swap(
    store: ObjectStore,
    key: str,
    parse: Callable[[bytes], M],
    change: Callable[[M], M],
    *,
    attempts: int,
    empty: M | None = None,
    indent: int | None = None,
) -> M | None:
    """Apply `change` to the object at `key`; return what it holds after, None if every try lost.

    A change that returns the object as it was writes nothing. An absent object is `empty`
    (created by the first writer), or ArtifactNotFoundError when no `empty` is given.
    """
    for _ in range(attempts):
        etag: str | None
        try:
            body, etag = store.read(key)
            current = parse(body)
        except ArtifactNotFoundError:
            if empty is None:
                raise
            current, etag = empty, None
        updated = change(current)
        if updated == current and etag is not None:
            return current
        new = updated.model_dump_json(indent=indent).encode()
        try:
            if etag is None:
                store.create(key, new)
            else:
                store.replace(key, new, etag)
        except (ObjectChangedError, ObjectExistsError):
            continue  # someone wrote it meanwhile: read again and change what they wrote
        return updated
    return None
