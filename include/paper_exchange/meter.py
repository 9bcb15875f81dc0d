"""Request accounting: Alpaca's per-minute rate limit (429 + X-RateLimit headers) and counters.

Alpaca limits the trading API and the market-data API separately, so each has its own fixed
60-second window on the exchange's clock. The counters are the oracle behind
``GET /_exchange/stats`` (requests per route, 429s), which tests and benchmarks read.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import datetime

WINDOW_SECONDS = 60
RATE_LIMITED = {"code": 42910000, "message": "rate limit exceeded"}
_ID_SEGMENT = re.compile(r"^/v2/(orders|assets|positions)/[^/]+$")


def route_key(method: str, path: str) -> str:
    """Return a stable name for a request's route (ids and symbols folded into one key)."""
    match = _ID_SEGMENT.match(path)
    if match:
        path = f"/v2/{match.group(1)}/{{id}}"
    return f"{method} {path}"


def _bucket(path: str) -> str:
    return "data" if path.startswith("/v2/stocks") else "trading"


class RequestMeter:
    """Count requests, and refuse those over the per-minute limit when one is set."""

    def __init__(self, per_minute: int | None) -> None:
        self._limit = per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}
        self.by_route: Counter[str] = Counter()
        self.limited: Counter[str] = Counter()

    def admit(self, method: str, path: str, now: datetime) -> tuple[bool, dict[str, str]]:
        """Count one request; return whether it may proceed and the rate-limit headers."""
        key = route_key(method, path)
        with self._lock:
            self.by_route[key] += 1
            if self._limit is None or not path.startswith("/v2"):
                return True, {}
            window = int(now.timestamp()) // WINDOW_SECONDS
            bucket = _bucket(path)
            start, used = self._windows.get(bucket, (window, 0))
            if start != window:
                start, used = window, 0
            allowed = used < self._limit
            used += 1 if allowed else 0
            self._windows[bucket] = (start, used)
            if not allowed:
                self.limited[key] += 1
            headers = {
                "X-RateLimit-Limit": str(self._limit),
                "X-RateLimit-Remaining": str(max(0, self._limit - used)),
                "X-RateLimit-Reset": str((start + 1) * WINDOW_SECONDS),
            }
            return allowed, headers

    def stats(self) -> dict[str, object]:
        """Return the counters as JSON."""
        with self._lock:
            return {
                "requests": sum(self.by_route.values()),
                "by_route": dict(sorted(self.by_route.items())),
                "rate_limited": sum(self.limited.values()),
                "rate_limited_by_route": dict(sorted(self.limited.items())),
                "rate_limit_per_minute": self._limit,
            }
