"""What operators set outside the DAG file: Variables, and the params that tighten them.

Variables `alchemiser_risk_limits` and `alchemiser_execution` (JSON), `alchemiser_kill_switch`
(read on every tick of a walk), and the `portfolio` param's file under include/strategies/.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from airflow.sdk import Variable
from pydantic import ValidationError

from alchemiser.domain.errors import ConfigError
from alchemiser.execution.settings import ExecutionSettings
from alchemiser.risk.limits import RiskLimits
from alchemiser.strategy.portfolio_config import DEFAULT_PORTFOLIO

RISK_VARIABLE = "alchemiser_risk_limits"
EXECUTION_VARIABLE = "alchemiser_execution"
KILL_SWITCH_VARIABLE = "alchemiser_kill_switch"
_ON = {"on", "true", "1", "yes"}
SETTLEMENT_TASK = "await_settlement"
DEFAULT_SETTLEMENT_SECONDS = 120.0


def risk_limits(context: Mapping[str, Any]) -> RiskLimits:
    """Return the limits from Variable `alchemiser_risk_limits` (JSON), tightened by the params."""
    raw = Variable.get(RISK_VARIABLE, default="{}")
    try:
        limits = RiskLimits.model_validate_json(raw)
    except ValidationError as exc:
        raise ConfigError(f"Variable {RISK_VARIABLE} is not valid risk limits: {exc}") from exc
    cap = (context.get("params") or {}).get("max_order_notional")
    if cap is not None:
        tighter = Decimal(str(cap))
        if limits.max_order_notional is not None:
            tighter = min(tighter, limits.max_order_notional)
        limits = limits.model_copy(update={"max_order_notional": tighter})
    return limits


def execution_settings() -> ExecutionSettings:
    """Return ExecutionSettings overridden by Variable `alchemiser_execution` (JSON), if set."""
    raw = Variable.get(EXECUTION_VARIABLE, default="{}")
    try:
        return ExecutionSettings.model_validate_json(raw)
    except ValidationError as exc:
        raise ConfigError(f"Variable {EXECUTION_VARIABLE} is not valid: {exc}") from exc


def kill_switch() -> str | None:
    """Return why to stop when Variable `alchemiser_kill_switch` is on (read on every tick)."""
    value = Variable.get(KILL_SWITCH_VARIABLE, default="off").strip().lower()
    return f"kill switch on (Variable {KILL_SWITCH_VARIABLE}={value})" if value in _ON else None


def portfolio_path(name: object) -> Path:
    """Return the portfolio config the `portfolio` param names, inside include/strategies/."""
    if not name:
        return DEFAULT_PORTFOLIO
    folder = DEFAULT_PORTFOLIO.parent.resolve()
    path = (folder / str(name)).resolve()
    if not path.is_relative_to(folder) or path.suffix not in {".yaml", ".yml"}:
        raise ConfigError(f"param portfolio={name!r}: must be a .yaml file under {folder}")
    return path


def settlement_seconds(context: Mapping[str, Any]) -> float:
    """Return the settlement sensor's timeout as the DAG sets it (the timeline counts it)."""
    dag = context.get("dag")
    if dag is None or not dag.has_task(SETTLEMENT_TASK):
        return DEFAULT_SETTLEMENT_SECONDS
    return float(dag.get_task(SETTLEMENT_TASK).timeout)
