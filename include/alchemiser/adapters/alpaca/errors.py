"""Turn alpaca-py and transport failures into our typed errors, naming the call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests
from alpaca.common.exceptions import APIError
from pydantic import ValidationError

from alchemiser.adapters.alpaca.http import RetriesExhaustedError
from alchemiser.domain.errors import (
    BrokerError,
    DuplicateClientOrderIdError,
    FinalRejectionError,
    NotTradableError,
    OrderRejectedError,
)

DUPLICATE_CLIENT_ORDER_ID = 40010001
"""Alpaca's code for "client_order_id must be unique" (and other bad parameters)."""
DUPLICATE_MESSAGE = "client_order_id must be unique"
NOT_TRADABLE = ("not tradable", "not active", "cannot be traded", "is halted")
"""Words of a 403 saying the symbol cannot trade now (halted, suspended, inactive)."""
FINAL_403 = ("cost basis must be", "fractional orders are not supported")
"""Other 403s the same order always gets."""
NEVER_FINAL = ("insufficient", "wash trade")
"""Buying power, available qty and wash trades change as other orders fill or are canceled
(Alpaca sends wash trades as 403 or 422)."""


def classify_rejection(error: OrderRejectedError) -> OrderRejectedError:
    """Return the rejection as the domain error that says what to do about it.

    A duplicate client order id (422 40010001 "client_order_id must be unique": an earlier
    try's order exists) is a DuplicateClientOrderIdError, adopted by lookup. A 422 is otherwise
    an invalid order (price off tick, bad qty), final, except under code 40010001, which Alpaca
    uses for other bad parameters too. 429s, 5xx and transport failures never arrive here as
    rejections.
    """
    message = str(error).lower()
    if error.code == DUPLICATE_CLIENT_ORDER_ID and DUPLICATE_MESSAGE in message:
        return DuplicateClientOrderIdError(str(error), status=error.status, code=error.code)
    if error.status not in (403, 422) or any(words in message for words in NEVER_FINAL):
        return error
    if any(words in message for words in NOT_TRADABLE):
        return NotTradableError(str(error), status=error.status, code=error.code)
    final = (
        any(words in message for words in FINAL_403)
        if error.status == 403
        else error.code != DUPLICATE_CLIENT_ORDER_ID
    )
    if not final:
        return error
    return FinalRejectionError(str(error), status=error.status, code=error.code)


def api_error_details(error: APIError) -> tuple[int | None, int | None, str]:
    """Return (HTTP status, Alpaca code, message) even when the body is not JSON."""
    status = error.status_code
    raw = str(error)
    try:
        body = json.loads(raw)
    except ValueError:
        # An HTML error page from a proxy: keep the start of it, never the whole page.
        return status, None, raw.strip()[:200]
    if not isinstance(body, dict):
        return status, None, raw[:200]
    code = body.get("code")
    return status, code if isinstance(code, int) else None, str(body.get("message", raw))[:500]


@contextmanager
def broker_call(what: str, error_type: Callable[..., BrokerError] = BrokerError) -> Iterator[None]:
    """Re-raise any failure of the SDK call `what` as a BrokerError that names it."""
    try:
        yield
    except APIError as exc:
        status, code, message = api_error_details(exc)
        raise error_type(f"{what}: HTTP {status} {message}", status=status, code=code) from exc
    except RetriesExhaustedError as exc:
        # Never an OrderRejectedError: the broker did not refuse, it did not answer usably.
        raise BrokerError(f"{what}: {exc}", status=exc.status) from exc
    except requests.JSONDecodeError as exc:
        # Also a RequestException: catch it first, it is a body problem, not the transport.
        raise BrokerError(f"{what}: response is not JSON") from exc
    except requests.Timeout as exc:
        raise BrokerError(f"{what}: timed out ({exc.__class__.__name__})") from exc
    except requests.RequestException as exc:
        raise BrokerError(f"{what}: transport error ({exc.__class__.__name__})") from exc
    except ValidationError as exc:
        raise BrokerError(f"{what}: unexpected response shape: {exc.error_count()} errors") from exc
    except ValueError as exc:
        # requests raises a ValueError subclass for a 2xx body that is not JSON.
        raise BrokerError(f"{what}: response is not JSON") from exc
    except (TypeError, KeyError) as exc:
        # alpaca-py builds its models with `Model(**body)`: an empty 2xx body arrives as None
        # (TypeError) and a list where a mapping belongs fails the same way (found by fuzzing).
        raise BrokerError(f"{what}: unexpected response shape ({exc.__class__.__name__})") from exc
