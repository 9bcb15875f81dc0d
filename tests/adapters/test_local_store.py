"""What only the local store does: safe paths, file links, and conditional writes that hold
across processes (the Local and Celery executors write to one folder concurrently)."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import queue
from pathlib import Path
from typing import Any

import pytest

from alchemiser.adapters.local.store import LocalObjectStore, LocalStoreError
from alchemiser.domain.errors import ObjectChangedError, ObjectExistsError

PROCESSES = 4
INCREMENTS = 25


@pytest.mark.parametrize(
    "key",
    [
        "../escape.json",
        "a/../../escape.json",
        "/etc/passwd",
        "a//b.json",
        "",
        ".locks/x",
        "a/.tmp/b",
    ],
)
def test_a_key_that_is_not_a_plain_relative_path_is_refused(tmp_path: Path, key: str) -> None:
    store = LocalObjectStore(tmp_path / "state", "alchemiser")
    with pytest.raises(LocalStoreError, match="not a plain path segment"):
        store.put(key, b"{}")
    assert not (tmp_path / "escape.json").exists()


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "state", "alchemiser")
    (tmp_path / "outside").mkdir()
    (store.root / "runs").symlink_to(tmp_path / "outside")
    with pytest.raises(LocalStoreError, match="leads outside"):
        store.put("runs/report.html", b"<html>")
    assert list((tmp_path / "outside").iterdir()) == []


def test_objects_are_plain_files_a_human_can_open(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "state", "alchemiser")
    store.put("runs/2026-11-20/r/report.html", b"<h1>Run report</h1>", "text/html")
    path = tmp_path / "state" / "alchemiser" / "runs" / "2026-11-20" / "r" / "report.html"
    assert path.read_bytes() == b"<h1>Run report</h1>"
    assert store.link("runs/2026-11-20/r/report.html") == path.as_uri()
    assert store.bucket == (tmp_path / "state" / "alchemiser").as_uri()


def test_listing_never_shows_temp_or_lock_files(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "state", "alchemiser")
    etag = store.create("ledger/a.json", b"1")
    store.replace("ledger/a.json", b"2", etag)  # leaves a lock file behind
    assert store.list_keys("") == ("ledger/a.json",)


def test_an_unreadable_folder_is_a_local_store_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(LocalStoreError, match="cannot create the state folder"):
        LocalObjectStore(tmp_path / "file", "alchemiser")


def _create(state: str, start: Any, won: Any) -> None:
    store = LocalObjectStore(Path(state), "alchemiser")
    start.wait()
    for n in range(INCREMENTS):
        try:
            store.create(f"ledger/order-{n}.json", json.dumps({"n": n}).encode())
        except ObjectExistsError:
            continue
        won.put(n)


def _increment(state: str, start: Any) -> None:
    store = LocalObjectStore(Path(state), "alchemiser")
    start.wait()
    done = 0
    while done < INCREMENTS:
        body, etag = store.read("counter.json")
        try:
            store.replace("counter.json", json.dumps(json.loads(body) + 1).encode(), etag)
        except ObjectChangedError:
            continue  # someone else wrote it since our read: read again
        done += 1


def _race(target: Any, state: Path, *extra: Any) -> None:
    context = multiprocessing.get_context("spawn")  # separate interpreters, like the workers
    start = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=target, args=(str(state), start, *extra)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES


def test_each_create_has_exactly_one_winner_across_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    won = context.Queue()
    _race(_create, tmp_path, won)
    winners = []
    with contextlib.suppress(queue.Empty):
        while True:
            winners.append(won.get(timeout=2))
    assert sorted(winners) == list(range(INCREMENTS))  # every key created once, by one process
    store = LocalObjectStore(tmp_path, "alchemiser")
    assert len(store.list_keys("ledger/")) == INCREMENTS


def test_no_compare_and_swap_update_is_lost_across_processes(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, "alchemiser")
    store.create("counter.json", b"0")
    _race(_increment, tmp_path)
    assert json.loads(store.get("counter.json")) == PROCESSES * INCREMENTS
