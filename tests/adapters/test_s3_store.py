"""What only the S3 store does, against a moto server on loopback (a real HTTP endpoint).

The contract both stores keep is in test_object_stores.py."""

from __future__ import annotations

import pytest

from alchemiser.adapters.s3.store import ObjectStoreError, S3ObjectStore
from alchemiser.domain.keys import run_prefix
from alchemiser.services.artifacts import load, save
from tests.builders import SESSION, targets


def test_artifacts_round_trip_through_s3(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    original = targets({"SPY": "0.6", "QQQ": "0.4"})
    ref = save(store, run_prefix(SESSION, "manual__2026-11-20T15:45:00+00:00"), "t", original, "s")
    assert ref.key == "runs/2026-11-20/manual__2026-11-20T15_45_00_00_00/t.json"
    assert load(store, ref, type(original)) == original
    head = s3_client.head_object(Bucket=bucket, Key=ref.key)
    assert head["ContentType"] == "application/json"


def test_a_missing_bucket_is_an_object_store_error(s3_client) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ObjectStoreError, match="put s3://no-such-bucket/k"):
        S3ObjectStore(s3_client, "no-such-bucket").put("k", b"{}")


def test_listing_returns_every_key_under_a_prefix_across_pages(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    for i in range(1005):  # more than one page of 1000
        store.put(f"p/{i:04d}.json", b"{}")
    store.put("q/other.json", b"{}")
    keys = store.list_keys("p/")
    assert len(keys) == 1005
    assert keys[0] == "p/0000.json"
    assert keys[-1] == "p/1004.json"
