"""Give alpaca-py's requests session a timeout, a rate limiter and bounded, idempotent retries.

alpaca-py sets no HTTP timeout and retries 429 and 504 itself, three times, 3 s apart, blind to
the server's reset time and deaf to 500/502/503 and dropped connections. We take every retry
out of alpaca-py (its retry code list is emptied) and retry here, in the transport adapter,
where one policy covers all of them:

- 429: after the wait the server names (the rate limiter's `backoff`), at most
  `max_429_retries` times; the server did not process the request, so resending is safe.
- 500, 502, 503, 504 and connection errors or timeouts: after an exponential backoff, at most
  `max_retries` times. The request may have been applied (a 504 or a dropped connection after
  the exchange accepted an order), so only requests that are safe to repeat are retried: reads,
  cancels, and order submissions and replaces that carry a client order id. A repeat of an
  applied submission is refused as "client_order_id must be unique" (422 40010001) and resolved
  by a lookup (`execution.orders.submit_once`, `AlpacaBroker.replace_order`), never by a new id.
  alpaca-py's own 504 retry did the same blind resubmission 3 s apart; keeping it as well would
  multiply the attempts (4 x ours) and the waits, so it is switched off rather than kept.
- Both stop once the next wait would end more than `budget_seconds` after the call began, so
  one call takes at most about `budget_seconds` plus one timeout; when retries run out the call
  fails with `RetriesExhaustedError` naming the attempts and the last failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

from alchemiser.adapters.alpaca.ratelimit import TOO_MANY_REQUESTS, RateLimiter

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
BODY_SNIPPET = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a call may retry transient failures."""

    max_retries: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 4.0
    budget_seconds: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number `attempt + 1` (0.5, 1, 2, 4, 4... seconds)."""
        return float(min(self.backoff_seconds * 2**attempt, self.max_backoff_seconds))


class RetriesExhaustedError(requests.RequestException):
    """A call still failed transiently after every retry its policy allows."""

    def __init__(self, failure: str, attempts: int, elapsed: float, status: int | None) -> None:
        super().__init__(f"{failure} after {attempts} attempts in {elapsed:.1f} s")
        self.failure = failure
        self.attempts = attempts
        self.elapsed = elapsed
        self.status = status


def is_repeatable(request: PreparedRequest) -> bool:
    """Return whether sending `request` twice has the effect of sending it once."""
    method = (request.method or "").upper()
    if method in SAFE_METHODS:
        return True
    body = request.body
    if not body or not isinstance(body, str | bytes):
        return False
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return False
    return isinstance(parsed, dict) and bool(parsed.get("client_order_id"))


def _snippet(response: Response) -> str:
    text = " ".join(response.text.split())
    return text[:BODY_SNIPPET]


class TimeoutHTTPAdapter(HTTPAdapter):
    """An HTTPAdapter with a default timeout, an optional rate limiter and bounded retries."""

    def __init__(
        self,
        timeout: float,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__()
        self._timeout = timeout
        self._limiter = limiter
        self.policy = policy or RetryPolicy()
        self._monotonic = monotonic or (limiter.monotonic if limiter else time.monotonic)
        self._sleep = sleep or (limiter.sleep if limiter else time.sleep)
        self.retried = 0
        """Retries of transient failures so far (not 429s), for tests and benchmarks."""

    def send(  # noqa: PLR0917 - signature fixed by requests.adapters.HTTPAdapter
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """Send with our timeout, within the rate limit, retrying what is safe to retry."""
        started = self._monotonic()
        repeatable = is_repeatable(request)
        throttled = retries = 0
        while True:
            if self._limiter is not None:
                self._limiter.acquire()
            try:
                response = super().send(
                    request,
                    stream=stream,
                    timeout=timeout if timeout is not None else self._timeout,
                    verify=verify,
                    cert=cert,
                    proxies=dict(proxies) if proxies is not None else None,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "transport error"
                failure = f"{kind} ({exc.__class__.__name__})"
                wait = self._retry_wait(repeatable, retries, started)
                if wait is None:
                    if retries == 0:
                        raise
                    raise self._exhausted(failure, retries, started, None) from exc
                self._pause(wait)
                retries += 1
                continue
            if response.status_code == TOO_MANY_REQUESTS and self._limiter is not None:
                wait = self._limiter.backoff(response, throttled)
                if wait is None or not self._within_budget(started, wait):
                    if throttled + retries == 0:
                        return response
                    failure = f"HTTP 429 {_snippet(response)}"
                    raise self._exhausted(failure, throttled + retries, started, 429)
                response.close()
                self._limiter.sleep(wait)
                throttled += 1
                continue
            if response.status_code not in RETRYABLE_STATUSES:
                return response
            wait = self._retry_wait(repeatable, retries, started)
            if wait is None:
                if retries == 0:
                    return response  # not retryable at all: alpaca-py reports it as usual
                failure = f"HTTP {response.status_code} {_snippet(response)}"
                raise self._exhausted(failure, retries, started, response.status_code)
            response.close()
            self._pause(wait)
            retries += 1

    def _retry_wait(self, repeatable: bool, retries: int, started: float) -> float | None:
        if not repeatable or retries >= self.policy.max_retries:
            return None
        wait = self.policy.backoff(retries)
        return wait if self._within_budget(started, wait) else None

    def _within_budget(self, started: float, wait: float) -> bool:
        return self._monotonic() + wait - started <= self.policy.budget_seconds

    def _pause(self, wait: float) -> None:
        self.retried += 1
        self._sleep(wait)

    def _exhausted(
        self, failure: str, retries: int, started: float, status: int | None
    ) -> RetriesExhaustedError:
        return RetriesExhaustedError(failure, retries + 1, self._monotonic() - started, status)


def install_timeout(
    client: Any,
    timeout: float,
    limiter: RateLimiter | None = None,
    policy: RetryPolicy | None = None,
) -> TimeoutHTTPAdapter:
    """Mount the timeout, rate-limit and retry adapter on an alpaca-py client's session.

    alpaca-py keeps its `requests.Session` in the private `_session` attribute and its retry
    codes in `_retry_codes`; a test pins both so an SDK upgrade that moves them fails loudly.
    """
    session = client._session
    if not isinstance(session, Session):
        raise TypeError("alpaca-py client has no requests session to configure")
    adapter = TimeoutHTTPAdapter(timeout, limiter, policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    codes = getattr(client, "_retry_codes", None)
    if not isinstance(codes, list):
        raise TypeError("alpaca-py client has no retry code list to configure")
    # Every retry happens in the adapter (see the module docstring): none in alpaca-py.
    client._retry_codes = []
    return adapter
