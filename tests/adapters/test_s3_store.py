"""The S3 object store against a moto server on loopback (a real HTTP endpoint)."""

from __future__ import annotations

import pytest

from alchemiser.adapters.s3.store import ObjectStoreError, S3ObjectStore
from alchemiser.domain.errors import (
    ArtifactInvalidError,
    ArtifactNotFoundError,
    ObjectChangedError,
    ObjectExistsError,
)
from alchemiser.domain.report import ArtifactRef
from alchemiser.services.artifacts import load, run_prefix, save
from tests.builders import SESSION, targets


def test_artifacts_round_trip_through_s3(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    original = targets({"SPY": "0.6", "QQQ": "0.4"})
    ref = save(store, run_prefix(SESSION, "manual__2026-11-20T15:45:00+00:00"), "t", original, "s")
    assert ref.key == "runs/2026-11-20/manual__2026-11-20T15_45_00_00_00/t.json"
    assert load(store, ref, type(original)) == original
    head = s3_client.head_object(Bucket=bucket, Key=ref.key)
    assert head["ContentType"] == "application/json"


def test_a_missing_artifact_is_named(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    with pytest.raises(ArtifactNotFoundError, match=f"s3://{bucket}/nope.json does not exist"):
        store.get("nope.json")


def test_a_corrupt_artifact_is_refused_naming_the_model(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    store.put("bad.json", b'{"weights": []}')
    ref = ArtifactRef(artifact_id="x", bucket=bucket, key="bad.json")
    with pytest.raises(ArtifactInvalidError, match="not a valid TargetAllocation"):
        load(store, ref, type(targets({"SPY": "1"})))


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


def test_conditional_create_lets_exactly_one_writer_win(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    etag = store.create("ledger/a.json", b'{"v": 1}')
    with pytest.raises(ObjectExistsError, match="already exists"):
        store.create("ledger/a.json", b'{"v": 2}')
    body, again = store.read("ledger/a.json")
    assert (body, again) == (b'{"v": 1}', etag)


def test_conditional_replace_refuses_a_stale_version(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    store = S3ObjectStore(s3_client, bucket)
    first = store.create("ledger/b.json", b'{"v": 1}')
    second = store.replace("ledger/b.json", b'{"v": 2}', first)
    with pytest.raises(ObjectChangedError, match="changed since it was read"):
        store.replace("ledger/b.json", b'{"v": 3}', first)  # a writer holding the old version
    assert store.read("ledger/b.json") == (b'{"v": 2}', second)
