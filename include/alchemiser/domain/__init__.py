"""Pure domain: value types, DTOs and errors. No I/O, no Airflow, no SDKs."""

from alchemiser.domain.allocation import StrategyContribution, SymbolWeight, TargetAllocation
from alchemiser.domain.market import (
    AccountState,
    AssetInfo,
    Bar,
    BrokerPosition,
    MarketClock,
    Quote,
)
from alchemiser.domain.orders import (
    OrderIntent,
    OrderResult,
    OrderStatus,
    PhaseResult,
    PhaseStatus,
)
from alchemiser.domain.plan import PlanItem, PlanSettings, RebalancePlan, Side
from alchemiser.domain.portfolio import Holding, PortfolioSnapshot
from alchemiser.domain.report import ArtifactRef, RunReport, WeightComparison

__all__ = [
    "AccountState",
    "ArtifactRef",
    "AssetInfo",
    "Bar",
    "BrokerPosition",
    "Holding",
    "MarketClock",
    "OrderIntent",
    "OrderResult",
    "OrderStatus",
    "PhaseResult",
    "PhaseStatus",
    "PlanItem",
    "PlanSettings",
    "PortfolioSnapshot",
    "Quote",
    "RebalancePlan",
    "RunReport",
    "Side",
    "StrategyContribution",
    "SymbolWeight",
    "TargetAllocation",
    "WeightComparison",
]
