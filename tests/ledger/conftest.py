"""The ledger's S3 tests reuse the adapters' moto server fixtures."""

from tests.adapters.conftest import bucket, s3_client, s3_server

__all__ = ["bucket", "s3_client", "s3_server"]
