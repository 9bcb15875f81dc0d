"""The contract the ledger relies on, kept by both stores: S3 (moto on loopback) and local."""

from __future__ import annotations

from pathlib import Path

import pytest

from alchemiser.adapters.local.store import LocalObjectStore
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.errors import (
    ArtifactInvalidError,
    ArtifactNotFoundError,
    ObjectChangedError,
    ObjectExistsError,
)
from alchemiser.domain.keys import run_prefix
from alchemiser.domain.report import ArtifactRef
from alchemiser.ports import ObjectStore
from alchemiser.services.artifacts import load, save
from tests.builders import SESSION, targets


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "state", "alchemiser")
    client = request.getfixturevalue("s3_client")
    return S3ObjectStore(client, request.getfixturevalue("bucket"))


def test_artifacts_round_trip(store: ObjectStore) -> None:
    original = targets({"SPY": "0.6", "QQQ": "0.4"})
    ref = save(store, run_prefix(SESSION, "manual__2026-11-20T15:45:00+00:00"), "t", original, "s")
    assert ref.key == "runs/2026-11-20/manual__2026-11-20T15_45_00_00_00/t.json"
    assert ref.uri == f"{'' if '://' in store.bucket else 's3://'}{store.bucket}/{ref.key}"
    assert load(store, ref, type(original)) == original


def test_a_missing_artifact_is_named(store: ObjectStore) -> None:
    with pytest.raises(ArtifactNotFoundError, match=r"nope\.json does not exist"):
        store.get("nope.json")
    with pytest.raises(ArtifactNotFoundError, match=r"nope\.json does not exist"):
        store.read("nope.json")


def test_a_corrupt_artifact_is_refused_naming_the_model(store: ObjectStore) -> None:
    store.put("bad.json", b'{"weights": []}')
    ref = ArtifactRef(artifact_id="x", bucket=store.bucket, key="bad.json")
    with pytest.raises(ArtifactInvalidError, match="not a valid TargetAllocation"):
        load(store, ref, type(targets({"SPY": "1"})))


def test_listing_returns_the_keys_under_a_prefix_sorted(store: ObjectStore) -> None:
    for key in ("p/b.json", "p/a.json", "p/sub/c.json", "pq.json", "q/other.json"):
        store.put(key, b"{}")
    assert store.list_keys("p/") == ("p/a.json", "p/b.json", "p/sub/c.json")
    assert store.list_keys("p") == ("p/a.json", "p/b.json", "p/sub/c.json", "pq.json")
    assert store.list_keys("p/a") == ("p/a.json",)
    assert store.list_keys("none/") == ()


def test_put_overwrites(store: ObjectStore) -> None:
    store.put("k.json", b"1")
    store.put("k.json", b"2")
    assert store.get("k.json") == b"2"


def test_conditional_create_lets_exactly_one_writer_win(store: ObjectStore) -> None:
    etag = store.create("ledger/a.json", b'{"v": 1}')
    with pytest.raises(ObjectExistsError, match="already exists"):
        store.create("ledger/a.json", b'{"v": 2}')
    body, again = store.read("ledger/a.json")
    assert (body, again) == (b'{"v": 1}', etag)


def test_conditional_replace_refuses_a_stale_version(store: ObjectStore) -> None:
    first = store.create("ledger/b.json", b'{"v": 1}')
    second = store.replace("ledger/b.json", b'{"v": 2}', first)
    with pytest.raises(ObjectChangedError, match="changed since it was read"):
        store.replace("ledger/b.json", b'{"v": 3}', first)  # a writer holding the old version
    assert store.read("ledger/b.json") == (b'{"v": 2}', second)
