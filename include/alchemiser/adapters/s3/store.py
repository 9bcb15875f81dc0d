"""The ObjectStore port on a boto3 S3 client."""

from __future__ import annotations

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
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=body, ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise ObjectStoreError(f"put s3://{self._bucket}/{key}: {exc}") from exc

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
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            ):
                keys.extend(o["Key"] for o in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise ObjectStoreError(f"list s3://{self._bucket}/{prefix}: {exc}") from exc
        return tuple(sorted(keys))

    def create(self, key: str, body: bytes) -> str:
        """Write only if absent (S3 conditional write, If-None-Match: *); return the ETag."""
        try:
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if _code(exc) in _PRECONDITION:
                raise ObjectExistsError(f"s3://{self._bucket}/{key} already exists") from exc
            raise ObjectStoreError(f"create s3://{self._bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"create s3://{self._bucket}/{key}: {exc}") from exc
        return response["ETag"]

    def read(self, key: str) -> tuple[bytes, str]:
        """Return body and ETag."""
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            return response["Body"].read(), response["ETag"]
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                raise ArtifactNotFoundError(f"s3://{self._bucket}/{key} does not exist") from exc
            raise ObjectStoreError(f"read s3://{self._bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"read s3://{self._bucket}/{key}: {exc}") from exc

    def replace(self, key: str, body: bytes, etag: str) -> str:
        """Overwrite only if unchanged since read (If-Match: etag); return the new ETag."""
        try:
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfMatch=etag,
            )
        except ClientError as exc:
            if _code(exc) in _PRECONDITION:
                raise ObjectChangedError(
                    f"s3://{self._bucket}/{key} changed since it was read"
                ) from exc
            raise ObjectStoreError(f"replace s3://{self._bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"replace s3://{self._bucket}/{key}: {exc}") from exc
        return response["ETag"]

    def get(self, key: str) -> bytes:
        """Read one object; a missing one is ArtifactNotFoundError."""
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            return response["Body"].read()
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404"}:
                raise ArtifactNotFoundError(f"s3://{self._bucket}/{key} does not exist") from exc
            raise ObjectStoreError(f"get s3://{self._bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ObjectStoreError(f"get s3://{self._bucket}/{key}: {exc}") from exc


# S3 answers a failed condition with 412 PreconditionFailed; a concurrent conditional write
# in flight can also answer 409 ConditionalRequestConflict: both mean "someone else wrote it".
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
