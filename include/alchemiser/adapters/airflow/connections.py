"""Read Alpaca and S3 settings from Airflow connections: what bootstrap builds the adapters from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.sdk import BaseHook
from pydantic import ValidationError

from alchemiser.adapters.alpaca.settings import AlpacaSettings
from alchemiser.domain.errors import ConfigError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ALPACA_CONN_ID = "alpaca_default"
AWS_CONN_ID = "aws_default"
BUCKET_VARIABLE = "alchemiser_bucket"
STATE_DIR_VARIABLE = "alchemiser_state_dir"
"""A folder here makes the tasks keep their state in it (the local store) instead of S3."""
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class ConnectionLike(Protocol):
    """The fields of an Airflow Connection this module reads."""

    conn_id: str
    host: str | None
    port: int | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """Return the parsed extra field."""
        ...


def base_url(conn: ConnectionLike) -> str | None:
    """Return the override URL from host (and port), or None for Alpaca's own endpoints."""
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" not in host:
        scheme = "http" if host.startswith(_LOOPBACK) else "https"
        host = f"{scheme}://{host}"
    if conn.port and host.count(":") < 2:
        host = f"{host}:{conn.port}"
    return host


def alpaca_settings(conn: ConnectionLike) -> AlpacaSettings:
    """Return Alpaca settings; a missing key or secret is refused before any call."""
    extra = conn.extra_dejson
    paper = extra.get("paper", True)
    if not isinstance(paper, bool):
        raise ConfigError(f"connection {conn.conn_id}: extra 'paper' must be true or false")
    try:
        return AlpacaSettings(
            key_id=conn.login or "",
            secret_key=conn.password or "",
            base_url=base_url(conn),
            paper=paper,
            timeout_seconds=extra.get("timeout_seconds", 10.0),
        )
    except ValidationError as exc:
        fields = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"connection {conn.conn_id}: {fields}") from exc


def alpaca_from_connection(conn_id: str = ALPACA_CONN_ID) -> AlpacaSettings:
    """Return the Alpaca settings of connection `conn_id` (default `alpaca_default`)."""
    return alpaca_settings(BaseHook.get_connection(conn_id))


async def aalpaca_from_connection(conn_id: str) -> AlpacaSettings:
    """Return the Alpaca settings of `conn_id`, read asynchronously (in the triggerer)."""
    return alpaca_settings(await BaseHook.aget_connection(conn_id))


def aws_connection_client() -> S3Client:
    """Return the S3 client of connection `aws_default` (its credentials, region, endpoint)."""
    return cast("S3Client", S3Hook(aws_conn_id=AWS_CONN_ID).get_conn())
