"""Give alpaca-py's requests session the timeout the SDK itself never sets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter


class TimeoutHTTPAdapter(HTTPAdapter):
    """An HTTPAdapter that applies a default (connect, read) timeout to every request."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def send(  # noqa: PLR0917 - signature fixed by requests.adapters.HTTPAdapter
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """Send with our timeout unless the caller gave one."""
        return super().send(
            request,
            stream=stream,
            timeout=timeout if timeout is not None else self._timeout,
            verify=verify,
            cert=cert,
            proxies=dict(proxies) if proxies is not None else None,
        )


def install_timeout(client: Any, timeout: float) -> None:
    """Mount the timeout adapter on an alpaca-py client's session.

    alpaca-py keeps its `requests.Session` in the private `_session` attribute and exposes no
    timeout; a test pins this so an SDK upgrade that moves it fails loudly, not silently.
    """
    session = client._session
    if not isinstance(session, Session):
        raise TypeError("alpaca-py client has no requests session to configure")
    adapter = TimeoutHTTPAdapter(timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
