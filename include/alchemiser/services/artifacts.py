"""Where each run's artifacts live in the object store, and how DTOs are written and read."""

from __future__ import annotations

import re
from datetime import date
from typing import TypeVar

from pydantic import ValidationError

from alchemiser.domain.errors import ArtifactInvalidError
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import Artifact
from alchemiser.ports import ObjectStore

A = TypeVar("A", bound=Artifact)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def run_prefix(session: date, run_id: str) -> str:
    """Return the key prefix of one run: partitioned by session, then run."""
    return f"runs/{session.isoformat()}/{_UNSAFE.sub('_', run_id)}"


def artifact_key(prefix: str, name: str) -> str:
    """Return where `save` puts the artifact `name` of a run."""
    return f"{prefix}/{name}.json"


def save(
    store: ObjectStore, prefix: str, name: str, artifact: Artifact, summary: str
) -> ArtifactRef:
    """Write `artifact` as JSON under `prefix/name.json` (overwrite: the key is the run's own)."""
    key = artifact_key(prefix, name)
    store.put(key, artifact.model_dump_json(indent=2).encode())
    return ArtifactRef(
        artifact_id=artifact.artifact_id, bucket=store.bucket, key=key, summary=summary
    )


def load(store: ObjectStore, ref: ArtifactRef, model: type[A]) -> A:
    """Read and validate the artifact `ref` points to."""
    body = store.get(ref.key)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise ArtifactInvalidError(
            f"{ref.uri} is not a valid {model.__name__}: {exc.error_count()} errors, "
            f"first: {exc.errors()[0]['msg']}"
        ) from exc
