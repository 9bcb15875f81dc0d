"""compute_signals: evaluate the portfolio's strategies into one target allocation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import structlog

from alchemiser.domain.report import ArtifactRef
from alchemiser.ports import ObjectStore
from alchemiser.services.artifacts import save
from alchemiser.services.context import RunContext
from alchemiser.strategy.fixed import allocate
from alchemiser.strategy.portfolio_config import load_portfolio_config

log = structlog.get_logger(__name__)


def compute_signals(run: RunContext, config_path: Path, store: ObjectStore) -> ArtifactRef:
    """Evaluate every configured strategy as of the run's session and store the targets."""
    config = load_portfolio_config(config_path)
    digest = hashlib.sha256(config_path.read_bytes()).hexdigest()[:12]
    targets = allocate(config, run.session, run.run_id, source=f"portfolio_config:{digest}")
    summary = ", ".join(f"{w.symbol} {w.weight:.2%}" for w in targets.weights)
    log.info("targets computed", run_id=run.run_id, targets=summary)
    return save(store, run.prefix, "target_allocation", targets, summary)
