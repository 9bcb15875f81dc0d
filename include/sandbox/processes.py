"""Start and stop the local servers the sandbox and the end-to-end tests use."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import requests

_EXCHANGE_READY = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
STARTUP_TIMEOUT_SECONDS = 60.0


class SandboxError(RuntimeError):
    """A local server would not start or stop."""


@dataclass
class Server:
    """A child process serving HTTP on loopback; a context manager that stops it."""

    name: str
    url: str
    process: subprocess.Popen[str]
    log_path: Path
    _log: IO[str] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Terminate the process (then kill it if it lingers)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def exchange_oracle(url: str) -> dict[str, Any]:
    """Return the paper exchange's order log at `url`: `orders`, `count`, `rejected_count`."""
    body: dict[str, Any] = requests.get(f"{url}/_exchange/orders", timeout=10).json()
    return body


def exchange_orders(url: str) -> list[dict[str, Any]]:
    """Return every order the paper exchange at `url` received (the tests' oracle)."""
    return list(exchange_oracle(url)["orders"])


def start_exchange(log_dir: Path, *args: str) -> Server:
    """Start `python -m paper_exchange --port 0 ARGS` and wait for its ready line."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "exchange.log"
    log = log_path.open("a", encoding="utf-8")
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "paper_exchange", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=_child_env(),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = _EXCHANGE_READY.search(line)
    if match is None:
        process.kill()
        log.close()
        tail = log_path.read_text(encoding="utf-8")[-2000:]
        raise SandboxError(f"paper exchange did not start (said {line!r}); log:\n{tail}")
    return Server("paper exchange", match.group(1), process, log_path, log)


def start_s3(log_dir: Path) -> Server:
    """Start a moto S3 server on a free loopback port and wait until it answers."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "s3.log"
    log = log_path.open("a", encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=_child_env(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        return Server("S3 (moto)", url, process, log_path, log)
    process.kill()
    log.close()
    raise SandboxError(f"S3 server did not start on {url}; see {log_path}")


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    include = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (include, env.get("PYTHONPATH", "")) if p)
    return env
