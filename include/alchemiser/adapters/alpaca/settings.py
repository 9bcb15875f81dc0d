"""How to reach Alpaca (or any Alpaca-compatible server): credentials, base URL, timeouts."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from alchemiser.adapters.alpaca.http import RetryPolicy
from alchemiser.domain.types import Frozen


class AlpacaSettings(Frozen):
    """Connection settings; the secret never appears in repr, logs or dumps."""

    key_id: SecretStr
    secret_key: SecretStr
    base_url: str | None = Field(
        default=None,
        description="override for trading and data alike, e.g. http://127.0.0.1:PORT; "
        "None means Alpaca's own endpoints",
    )
    paper: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    requests_per_minute: int = Field(
        default=190,
        ge=1,
        le=10_000,
        description="client-side budget per client (trading, data); Alpaca allows 200 a minute "
        "per account, and the headroom covers the sensor's own client",
    )
    max_429_retries: int = Field(default=5, ge=0, le=20, description="retries after a 429")
    max_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="retries after a 500/502/503/504, a dropped connection or a timeout "
        "(only of requests safe to repeat: reads, cancels, orders with a client order id)",
    )
    retry_backoff_seconds: float = Field(
        default=0.5, ge=0, le=10, description="first pause before a retry; doubles, up to 4 s"
    )
    retry_budget_seconds: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="no retry (of any kind) starts a wait that ends later than this after the "
        "call began: a call takes at most about this plus one timeout",
    )

    @field_validator("key_id", "secret_key")
    @classmethod
    def _present(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("base_url")
    @classmethod
    def _normalise(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if value.endswith("/v2"):
            # alpaca-py appends /v2 itself; a doubled /v2/v2 would 404 on every call.
            value = value[: -len("/v2")]
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base URL {value!r} must start with http:// or https://")
        return value

    @property
    def retry_policy(self) -> RetryPolicy:
        """Return the transport retry policy these settings describe."""
        return RetryPolicy(
            max_retries=self.max_retries,
            backoff_seconds=self.retry_backoff_seconds,
            budget_seconds=self.retry_budget_seconds,
        )

    @property
    def venue(self) -> str:
        """Return where orders go, without credentials."""
        if self.base_url:
            return self.base_url
        return "alpaca-paper" if self.paper else "alpaca-live"
