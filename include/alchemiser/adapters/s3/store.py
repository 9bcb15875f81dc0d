"""The ObjectStore port on a boto3 S3 client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from alchemiser.domain.errors import (
    AlchemiserError,
    ArtifactNotFoundError,
    ObjectChangedError,
    ObjectExistsError,
)

if TYPE_CHECKING:  # the stubs package exists only for type checking
    from mypy_boto3_s3 import S3Client


class ObjectStoreError(AlchemiserError):
    """S3 refused or failed a request."""


class S3ObjectStore:
    """JSON documents in one bucket; keys are derived from the run, so writes are idempotent."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        """Return the bucket name."""
        return self._bucket

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> None:
        """Write (or overwrite) one object."""
        with self._errors("put", key):
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType=content_type
            )

    def link(self, key: str) -> str:
        """Return the AWS console page of an object, or the object's URL on a custom endpoint."""
        endpoint = str(self._client.meta.endpoint_url).rstrip("/")
        if endpoint.endswith(".amazonaws.com"):
            return (
                f"https://s3.console.aws.amazon.com/s3/object/{self._bucket}"
                f"?prefix={quote(key, safe='')}"
            )
        return f"{endpoint}/{self._bucket}/{quote(key)}"

    def list_keys(self, prefix: str) -> tuple[str, ...]:
        """Return every key under `prefix`, sorted (all pages)."""
        keys: list[str] = []
        with self._errors("list", prefix):
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            ):
                keys.extend(o["Key"] for o in page.get("Contents", []))
        return tuple(sorted(keys))

    def create(self, key: str, body: bytes) -> str:
        """Write only if absent (S3 conditional write, If-None-Match: *); return the ETag."""
        with self._errors("create", key, _EXISTS):
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
            )
        return response["ETag"]

    def read(self, key: str) -> tuple[bytes, str]:
        """Return body and ETag."""
        with self._errors("read", key, _ABSENT):
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            return response["Body"].read(), response["ETag"]

    def replace(self, key: str, body: bytes, etag: str) -> str:
        """Overwrite only if unchanged since read (If-Match: etag); return the new ETag."""
        with self._errors("replace", key, _CHANGED):
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfMatch=etag,
            )
        return response["ETag"]

    def get(self, key: str) -> bytes:
        """Read one object; a missing one is ArtifactNotFoundError."""
        return self.read(key)[0]

    @contextmanager
    def _errors(
        self,
        verb: str,
        key: str,
        expected: _Expected | None = None,
    ) -> Iterator[None]:
        """Re-raise S3's failures of `verb` on `key`: the `expected` one as its domain error."""
        where = f"s3://{self._bucket}/{key}"
        try:
            yield
        except ClientError as exc:
            if expected is not None and _code(exc) in expected[0]:
                raise expected[1](f"{where} {expected[2]}") from exc
            raise ObjectStoreError(f"{verb} {where}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"{verb} {where}: {exc}") from exc


# S3 answers a failed condition with 412 PreconditionFailed; a concurrent conditional write
# in flight can also answer 409 ConditionalRequestConflict: both mean "someone else wrote it".
_PRECONDITION = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_Expected = tuple[frozenset[str], type[AlchemiserError], str]
"""Error codes S3 answers for an outcome the port names, its domain error, and its words."""
_ABSENT: _Expected = (frozenset({"NoSuchKey", "404"}), ArtifactNotFoundError, "does not exist")
_EXISTS: _Expected = (_PRECONDITION, ObjectExistsError, "already exists")
_CHANGED: _Expected = (_PRECONDITION, ObjectChangedError, "changed since it was read")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
