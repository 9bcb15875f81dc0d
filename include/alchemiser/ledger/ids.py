"""Deterministic client order ids from the task-instance key, never the try number.

A retry, a clear from the UI or a killed worker re-runs the same task instance key
(dag_id, run_id, task_id, map_index), so it recomputes the same ids and the broker's
"client order id must be unique" rule turns any second submission into a lookup.
"""

from __future__ import annotations

import hashlib

from pydantic import Field

from alchemiser.domain.plan import Side
from alchemiser.domain.types import Frozen

PREFIX = "alc"
"""Every order this system places starts with this, so reconciliation can tell ours apart."""


class TaskKey(Frozen):
    """The identity of a task instance that survives retries and clears."""

    dag_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    task_id: str = Field(min_length=1)
    map_index: int = -1


def client_order_id(key: TaskKey, symbol: str, side: Side, step: int = 0) -> str:
    """Return the id of the `step`-th order for `symbol`/`side` placed by this task instance.

    Readable head (side, symbol, step) for humans; a 20-hex-digit digest of the full key for
    uniqueness. At most 48 characters, well inside Alpaca's 128.
    """
    material = "\x1f".join(
        (key.dag_id, key.run_id, key.task_id, str(key.map_index), symbol, side.value, str(step))
    )
    digest = hashlib.sha256(material.encode()).hexdigest()[:20]
    return f"{PREFIX}-{side.value[0]}-{symbol}-{step}-{digest}"
