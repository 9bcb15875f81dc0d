"""Fixtures for chaos at the task level: exchange (fake clock), real alpaca-py, moto S3."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from paper_exchange import PaperExchange
from paper_exchange.faults import FaultSet
from sandbox.processes import Server, start_s3
from tests.chaos.harness import Venue, start_venue

StartVenue = Callable[..., Venue]


@pytest.fixture(scope="session")
def chaos_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_s3(tmp_path_factory.mktemp("chaos-s3")) as server:
        yield server


@pytest.fixture
def venue(chaos_s3: Server, request: pytest.FixtureRequest) -> Iterator[StartVenue]:
    """Start a venue: exchange with `faults` at start, adapters, a fresh bucket per venue."""
    started: list[PaperExchange] = []
    client = boto3.client(
        "s3",
        endpoint_url=chaos_s3.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )

    def start(faults: FaultSet | None = None, **config: Any) -> Venue:
        bucket = f"chaos-{len(started)}-{abs(hash(request.node.nodeid)) % 10**8}"
        v = start_venue(client, bucket, faults, **config)
        started.append(v.exchange)
        return v

    yield start
    for exchange in started:
        exchange.stop()
