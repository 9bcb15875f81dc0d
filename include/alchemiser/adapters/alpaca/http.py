"""Give alpaca-py's requests session a timeout, a rate limiter and 429 backoff.

alpaca-py sets no HTTP timeout and retries 429 itself three times, 3 s apart, blind to the
server's reset time; we mount our own transport adapter instead and take 429 out of its list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

from alchemiser.adapters.alpaca.ratelimit import TOO_MANY_REQUESTS, RateLimiter


class TimeoutHTTPAdapter(HTTPAdapter):
    """An HTTPAdapter with a default (connect, read) timeout and an optional rate limiter."""

    def __init__(self, timeout: float, limiter: RateLimiter | None = None) -> None:
        super().__init__()
        self._timeout = timeout
        self._limiter = limiter

    def send(  # noqa: PLR0917 - signature fixed by requests.adapters.HTTPAdapter
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """Send with our timeout unless the caller gave one, within the rate limit."""
        attempt = 0
        while True:
            if self._limiter is not None:
                self._limiter.acquire()
            response = super().send(
                request,
                stream=stream,
                timeout=timeout if timeout is not None else self._timeout,
                verify=verify,
                cert=cert,
                proxies=dict(proxies) if proxies is not None else None,
            )
            if response.status_code != TOO_MANY_REQUESTS or self._limiter is None:
                return response
            # A 429 was not processed by the server, so resending (even an order) is safe.
            wait = self._limiter.backoff(response, attempt)
            if wait is None:
                return response
            response.close()
            self._limiter.sleep(wait)
            attempt += 1


def install_timeout(client: Any, timeout: float, limiter: RateLimiter | None = None) -> None:
    """Mount the timeout (and rate-limit) adapter on an alpaca-py client's session.

    alpaca-py keeps its `requests.Session` in the private `_session` attribute and exposes no
    timeout; a test pins this so an SDK upgrade that moves it fails loudly, not silently.
    """
    session = client._session
    if not isinstance(session, Session):
        raise TypeError("alpaca-py client has no requests session to configure")
    adapter = TimeoutHTTPAdapter(timeout, limiter)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if limiter is not None:
        codes = getattr(client, "_retry_codes", None)
        if not isinstance(codes, list):
            raise TypeError("alpaca-py client has no retry code list to configure")
        client._retry_codes = [c for c in codes if c != TOO_MANY_REQUESTS]
