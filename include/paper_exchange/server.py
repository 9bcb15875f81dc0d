"""HTTP front end: a loopback-only ThreadingHTTPServer speaking Alpaca's REST dialect."""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from paper_exchange.config import ExchangeConfig
from paper_exchange.engine import Clock, PaperEngine
from paper_exchange.errors import ConfigError, ExchangeRejectionError
from paper_exchange.faults import (
    HTML_GATEWAY_TIMEOUT,
    Faults,
    FaultSet,
    Outcome,
    cross_quotes,
    html_page,
    parse_faults,
    strip_fields,
)
from paper_exchange.meter import RATE_LIMITED, RequestMeter, route_key
from paper_exchange.routes import Body, dispatch
from paper_exchange.serialize import rfc3339

UNAUTHORIZED = {"code": 40110000, "message": "request is not authorized"}
INTERNAL_ERROR = {"code": 50010000, "message": "internal server error"}
FAULTS_PATH = "/_exchange/faults"
REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
MAX_BODY = 1_000_000
POLL_INTERVAL = 0.05  # seconds; bounds how long stop() waits for the serve loop


def wall_clock() -> datetime:
    """Return the real time in UTC; the server's clock (logic never reads it directly)."""
    return datetime.now(UTC)  # noqa: TID251 - this is the injected clock itself


def require_loopback(host: str) -> None:
    """Refuse to bind anywhere but loopback: the exchange accepts any credentials."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError as exc:
        raise ConfigError(f"--host must be a loopback address, got {host!r}") from exc
    if not loopback:
        raise ConfigError(f"--host must be a loopback address, got {host!r}")


def apply_to_engine(engine: PaperEngine, faults: FaultSet) -> None:
    """Hand the engine the faults it applies itself: halts and suspended symbols."""
    engine.set_halted(frozenset(faults.halted))
    engine.set_untradable(frozenset(faults.untradable))


class _Handler(BaseHTTPRequestHandler):
    server_version = "alchemiser-exchange/1"
    engine: ClassVar[PaperEngine]
    meter: ClassVar[RequestMeter]
    faults: ClassVar[Faults]
    clock: ClassVar[staticmethod[[], datetime]]
    log_requests: ClassVar[bool] = True

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=False)
        allowed, self._extra_headers = self.meter.admit(method, parts.path, self.clock())
        route = route_key(method, parts.path)
        outcome = Outcome()
        try:
            body = self._read_body()
            if parts.path == FAULTS_PATH:
                status, payload = self._faults_admin(method, body)
                self._send(status, payload)
                return
            if parts.path.startswith("/v2") and not self._authorized():
                self._send(401, UNAUTHORIZED)
                return
            if not allowed:
                self._send(429, RATE_LIMITED)
                return
            if parts.path.startswith("/v2") and self._fault_before(route):
                return
            if parts.path == "/_exchange/stats":
                status, payload = 200, self.meter.stats()
            else:
                try:
                    status, payload = dispatch(self.engine, method, parts.path, query, body)
                finally:  # on disk before the client hears of it (fills happen on reads too)
                    self.engine.checkpoint()
            if parts.path.startswith("/v2"):
                outcome = self.faults.after(route, status, self.clock())
        except ExchangeRejectionError as rejection:
            self._send(rejection.status, rejection.body())
            return
        self._send_with(outcome, status, payload)

    def _faults_admin(self, method: str, body: Body) -> tuple[int, Any]:
        if method == "POST":
            try:
                faults = parse_faults(body or {})
            except ConfigError as exc:
                raise ExchangeRejectionError(422, 42210000, str(exc)) from exc
            self.faults.configure(faults, self.clock())
            apply_to_engine(self.engine, faults)
        elif method == "DELETE":
            self.faults.configure(FaultSet(), self.clock())
            apply_to_engine(self.engine, FaultSet())
        elif method != "GET":
            raise ExchangeRejectionError(405, 40510000, "method not allowed")
        return 200, self.faults.status()

    def _fault_before(self, route: str) -> bool:
        """Delay or refuse a request as the faults say; return True when it was answered."""
        decision = self.faults.before(route)
        if decision.delay_seconds:
            time.sleep(decision.delay_seconds)
        if decision.status is None:
            return False
        if decision.status == 429:
            self._extra_headers = {**self._extra_headers, "Retry-After": f"{decision.retry_after}"}
            self._send(429, RATE_LIMITED)
        elif decision.status == 500:
            self._send(500, INTERNAL_ERROR)
        else:
            reason = REASONS.get(decision.status, "Error")
            self._send_html(decision.status, html_page(decision.status, reason))
        return True

    def _send_with(self, outcome: Outcome, status: int, payload: Any) -> None:
        if outcome.lost == "drop":
            # Applied, but the client never hears back: close without a byte of response.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if outcome.lost == "504":
            self._send_html(504, HTML_GATEWAY_TIMEOUT)
            return
        if outcome.html_status is not None:
            self._send_html(outcome.html_status, html_page(outcome.html_status, "Maintenance"))
            return
        if outcome.strip:
            payload = strip_fields(payload, outcome.strip)
        if outcome.crossed:
            cross_quotes(payload, outcome.crossed, outcome.zero)
        if outcome.stale_seconds and isinstance(payload, dict):
            stamp = rfc3339(self.engine.sim_now() - timedelta(seconds=outcome.stale_seconds))
            for key in ("quotes", "trades"):
                for item in (payload.get(key) or {}).values():
                    item["t"] = stamp
        self._send(status, payload)

    def _send_html(self, status: int, page: str) -> None:
        data = page.encode()
        self.send_response(status)
        for name, value in getattr(self, "_extra_headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        key = self.headers.get("APCA-API-KEY-ID", "")
        secret = self.headers.get("APCA-API-SECRET-KEY", "")
        return bool(key.strip()) and bool(secret.strip())

    def _read_body(self) -> Body:
        length = int(self.headers.get("Content-Length") or 0)
        if length == 0:
            return None
        if length > MAX_BODY:
            raise ExchangeRejectionError(413, 41300000, "request body too large")
        raw = self.rfile.read(length)
        try:
            parsed = json.loads(raw, parse_float=Decimal)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ExchangeRejectionError(400, 40010000, "request body format is invalid") from exc
        if not isinstance(parsed, dict):
            raise ExchangeRejectionError(400, 40010000, "request body format is invalid")
        return parsed

    def _send(self, status: int, payload: Any) -> None:
        self.send_response(status)
        for name, value in getattr(self, "_extra_headers", {}).items():
            self.send_header(name, value)
        if status == 204:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(payload).encode()
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: never headers (the secret travels in one).
        if self.log_requests:
            path = urlsplit(self.path).path
            sys.stderr.write(f"{self.command} {path} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        if self.log_requests:
            sys.stderr.write((format % args) + "\n")


class PaperExchange:
    """The paper exchange as a Python object: start it on a port, get its URL, stop it."""

    def __init__(
        self,
        config: ExchangeConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock = wall_clock,
        log_requests: bool = False,
        allow_remote: bool = False,
        faults: FaultSet | None = None,
    ) -> None:
        if not allow_remote:
            require_loopback(host)
        config = config or ExchangeConfig()
        self.engine = PaperEngine(config, clock)
        self._clock = clock
        self.meter = RequestMeter(config.rate_limit_per_minute)
        self.faults = Faults(faults, clock())
        if faults is not None:
            apply_to_engine(self.engine, faults)
        handler = type(
            "Handler",
            (_Handler,),
            {
                "engine": self.engine,
                "meter": self.meter,
                "faults": self.faults,
                "clock": staticmethod(clock),
                "log_requests": log_requests,
            },
        )
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL to give alpaca-py as ``url_override`` (no /v2)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def set_faults(self, faults: FaultSet) -> None:
        """Replace the fault set, as ``POST /_exchange/faults`` does."""
        self.faults.configure(faults, self._clock())
        apply_to_engine(self.engine, faults)

    def start(self) -> str:
        """Serve in a background thread and return the URL."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL},
                name="paper-exchange",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Serve on the calling thread until ``stop`` is called from another."""
        self._server.serve_forever(poll_interval=POLL_INTERVAL)

    def stop(self) -> None:
        """Stop serving, release the port and write the state file (if any) a last time."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self.engine.checkpoint()

    def __enter__(self) -> PaperExchange:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
