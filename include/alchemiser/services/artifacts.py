"""How a run's artifacts (DTOs) are written to the object store and read back, validated."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError

from alchemiser.domain.errors import ArtifactInvalidError
from alchemiser.domain.keys import artifact_key
from alchemiser.domain.report import ArtifactRef
from alchemiser.domain.types import Artifact
from alchemiser.ports import ObjectStore

A = TypeVar("A", bound=Artifact)


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
