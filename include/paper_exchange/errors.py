"""Typed rejections the exchange returns as Alpaca-style JSON errors."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class ExchangeRejectionError(Exception):
    """A request the exchange refuses, with Alpaca's HTTP status and error code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, object]:
        """Return the JSON body Alpaca sends for this rejection."""
        return {"code": self.code, "message": self.message}


class ConfigError(ValueError):
    """Invalid exchange configuration (bad flag, unreadable seed or asset file)."""


def unprocessable(message: str, code: int = 42210000) -> ExchangeRejectionError:
    """Build a 422 rejection."""
    return ExchangeRejectionError(422, code, message)


def forbidden(message: str) -> ExchangeRejectionError:
    """Build a 403 rejection (buying power, quantity, wash trade)."""
    return ExchangeRejectionError(403, 40310000, message)


def not_found(message: str, code: int = 40410000) -> ExchangeRejectionError:
    """Build a 404 rejection."""
    return ExchangeRejectionError(404, code, message)


def bad_request(message: str) -> ExchangeRejectionError:
    """Build a 400 rejection for malformed requests."""
    return ExchangeRejectionError(400, 40010000, message)


class OrderStateError(RuntimeError):
    """An order lacks a field its kind guarantees (a notional order without its notional): a bug."""


def known(value: T | None, what: str) -> T:
    """Return `value`, which the order's kind guarantees is set; raise OrderStateError if not."""
    if value is None:
        raise OrderStateError(f"order without its {what}")
    return value
