"""Which broker rejections are final: classified once, in the adapter."""

from __future__ import annotations

import pytest

from alchemiser.adapters.alpaca.errors import classify_rejection
from alchemiser.domain.errors import (
    DuplicateClientOrderIdError,
    FinalRejectionError,
    NotTradableError,
    OrderRejectedError,
)


@pytest.mark.parametrize(
    ("status", "code", "message", "kind"),
    [
        (403, 40310000, "asset XLE is not tradable", NotTradableError),
        (422, 42210000, "asset DELIST is not tradable", NotTradableError),
        (422, 42210000, "invalid limit_price 1.001. sub-penny increment", FinalRejectionError),
        (403, 40310000, "cost basis must be >= 1", FinalRejectionError),
        (422, 40010001, "client_order_id must be unique", DuplicateClientOrderIdError),
        (422, 40010001, "qty must be > 0", OrderRejectedError),
        (403, 40310000, "insufficient buying power", OrderRejectedError),
        (403, 40310000, "insufficient qty available for order", OrderRejectedError),
        (422, 42210000, "potential wash trade detected. use complex orders", OrderRejectedError),
        (403, 40310000, "new orders are rejected by user request", OrderRejectedError),
        (429, 42910000, "rate limit exceeded", OrderRejectedError),
        (500, 50010000, "internal server error", OrderRejectedError),
    ],
)
def test_only_rejections_no_retry_can_change_are_final(
    status: int, code: int, message: str, kind: type[OrderRejectedError]
) -> None:
    classified = classify_rejection(
        OrderRejectedError(f"submit: HTTP {status} {message}", status=status, code=code)
    )
    assert type(classified) is kind
    assert (classified.status, classified.code) == (status, code)
    assert message in str(classified)
