"""A real paper exchange (in a thread, wall clock) and a real moto S3 server (a subprocess)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from alchemiser.adapters.alpaca.settings import AlpacaSettings
from paper_exchange import AccountSeed, ExchangeConfig, PaperExchange
from sandbox.processes import Server, start_s3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SESSION = date(2025, 6, 2)


@pytest.fixture
def exchange() -> Iterator[PaperExchange]:
    config = ExchangeConfig(
        session=SESSION,
        history_start=date(2025, 3, 1),
        fill_delay_seconds=0.05,
        account=AccountSeed(cash=Decimal(50_000), positions={"SPY": Decimal(10)}),
    )
    exchange = PaperExchange(config, port=0)
    exchange.start()
    yield exchange
    exchange.stop()


@pytest.fixture
def alpaca(exchange: PaperExchange) -> AlpacaSettings:
    return AlpacaSettings(
        key_id="test-key", secret_key="test-secret", base_url=exchange.url, timeout_seconds=5
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with start_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_client(s3_server: Server) -> S3Client:
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    return client


@pytest.fixture
def bucket(s3_client: S3Client, request: pytest.FixtureRequest) -> str:
    name = f"test-{abs(hash(request.node.nodeid)) % 10**10}"
    s3_client.create_bucket(Bucket=name)
    return name


def tmp_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
