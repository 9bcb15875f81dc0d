"""Stay under Alpaca's request budget (200 a minute per account) and back off on 429.

Client-side: a sliding 60-second window of request start times; a request that would exceed
the budget waits for the oldest one to leave the window. Server-side 429s (another process on
the same account, a stricter limit) are retried here, before alpaca-py sees them, after the
wait the server names (`Retry-After`, else `X-RateLimit-Reset`), else an exponential backoff.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from requests import Response

WINDOW_SECONDS = 60.0
TOO_MANY_REQUESTS = 429


@dataclass
class RateLimiter:
    """A sliding-window limiter shared by every request of one client (thread-safe)."""

    per_minute: int
    max_429_retries: int = 5
    max_backoff_seconds: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _starts: deque[float] = field(default_factory=deque, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    waited_seconds: float = 0.0
    throttled: int = 0

    def acquire(self) -> None:
        """Block until one more request fits in the window, then count it."""
        while True:
            with self._lock:
                now = self.monotonic()
                while self._starts and now - self._starts[0] >= WINDOW_SECONDS:
                    self._starts.popleft()
                if len(self._starts) < self.per_minute:
                    self._starts.append(now)
                    return
                wait = WINDOW_SECONDS - (now - self._starts[0])
            self.waited_seconds += wait
            self.sleep(wait)

    def backoff(self, response: Response, attempt: int) -> float | None:
        """Return how long to wait before retrying a 429, or None to give up."""
        if attempt >= self.max_429_retries:
            return None
        self.throttled += 1
        named = _header_seconds(response, "Retry-After")
        reset = _header_seconds(response, "X-RateLimit-Reset")
        if named is None and reset is not None:
            named = reset - self.wall()  # an epoch second, on the server's clock
        wait = named if named is not None and named > 0 else 2.0**attempt
        return min(wait, self.max_backoff_seconds)


def _header_seconds(response: Response, name: str) -> float | None:
    raw = response.headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None
