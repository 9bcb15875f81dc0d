"""Typed domain errors: every failure the system expects has a name and says what and where."""

from __future__ import annotations


class AlchemiserError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(AlchemiserError):
    """A configuration file or setting is missing or invalid."""


class StrategyError(AlchemiserError):
    """A strategy could not be evaluated."""


class MarketDataError(AlchemiserError):
    """Prices or bars are missing, stale or nonsensical for a symbol."""


class PlanningError(AlchemiserError):
    """Targets and the portfolio cannot be turned into a valid plan."""


class BrokerError(AlchemiserError):
    """The broker refused a request or answered something we cannot use."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class OrderRejectedError(BrokerError):
    """The broker rejected one order."""


class FinalRejectionError(OrderRejectedError):
    """The broker rejected an order for a reason no retry changes: it is never sent again."""


class NotTradableError(FinalRejectionError):
    """The broker refuses orders for the symbol now (halted, suspended, inactive)."""


class DuplicateClientOrderIdError(OrderRejectedError):
    """The broker already has an order under this client order id: look it up and adopt it."""


class InsufficientBuyingPowerError(AlchemiserError):
    """A buy would spend money the account does not have."""


class SettlementTimeoutError(AlchemiserError):
    """Sell orders or their proceeds did not arrive before the deadline."""


class ArtifactNotFoundError(AlchemiserError):
    """An artifact a task depends on is not in the object store."""


class ArtifactInvalidError(AlchemiserError):
    """An artifact exists but does not validate as the model expected."""


class MarketClosedError(AlchemiserError):
    """The broker's clock says the market is closed, so no order may be placed."""


class SessionMismatchError(AlchemiserError):
    """The run's trading session is not the broker's current session."""


class PhaseFailedError(AlchemiserError):
    """An execution phase ended with rejected or unfilled orders."""


class PartialRunError(PhaseFailedError):
    """The run ended partial and the partial policy says that fails it (after its report)."""


class ObjectExistsError(AlchemiserError):
    """A create-if-absent write found the object already there."""


class ObjectChangedError(AlchemiserError):
    """A conditional overwrite found the object changed since it was read."""


class KillSwitchError(AlchemiserError):
    """An operator turned the kill switch on: nothing more is placed, this run's orders canceled."""


class CircuitBreakerError(PhaseFailedError):
    """A phase went over its slippage or rejection budget: stopped, this run's orders canceled."""
