"""Notifications: log only when nothing is configured; email through a local SMTP server; Slack."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from alchemiser.adapters.airflow import teardown
from alchemiser.adapters.airflow.notify import NotificationError, deliver
from alchemiser.notify.message import RunEvent
from alchemiser.services.cleanup import CleanupIncompleteError
from alchemiser.services.context import RunContext
from sandbox.processes import free_port
from tests.builders import SESSION

FAILURE = RunEvent(
    kind="failure",
    dag_id="daily_rebalance",
    run_id="manual__1",
    session="2026-11-20",
    task_id="execute_sells",
    error="BrokerError: submit sell SPY: HTTP 403 insufficient qty",
)
SUCCESS = RunEvent(
    kind="success",
    dag_id="daily_rebalance",
    run_id="manual__2",
    session="2026-11-20",
    outcome="success",
    report="s3://alchemiser/runs/2026-11-20/manual__2/report.json",
)


class Inbox:
    """aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)  # type: ignore[attr-defined]
        )
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALCHEMISER_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": controller.port,
                "extra": {
                    "from_email": "alchemiser@example.com",
                    "to": ["ops@example.com"],
                    "disable_ssl": True,
                    "disable_tls": True,
                },
            }
        ),
    )
    yield inbox
    controller.stop()


def test_with_no_channel_configured_it_only_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_ALCHEMISER_SMTP", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_ALCHEMISER_SLACK", raising=False)
    assert deliver(SUCCESS) == ()


def test_a_failure_email_names_the_session_task_and_error(smtp: Inbox) -> None:
    assert deliver(FAILURE) == ("smtp",)
    ((sender, recipients, raw),) = smtp.messages
    assert sender == "alchemiser@example.com"
    assert recipients == ["ops@example.com"]
    message = message_from_bytes(raw)
    assert message["Subject"] == "[alchemiser] FAILED 2026-11-20: execute_sells (daily_rebalance)"
    body = message.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "HTTP 403 insufficient qty" in body
    assert "report: not written" in body


def test_a_success_email_links_the_report(smtp: Inbox) -> None:
    deliver(SUCCESS)
    ((_, _, raw),) = smtp.messages
    message = message_from_bytes(raw)
    assert message["Subject"] == "[alchemiser] 2026-11-20: success (daily_rebalance)"
    body = message.get_payload(0).get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "s3://alchemiser/runs/2026-11-20/manual__2/report.json" in body


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []  # noqa: RUF012 - test-local capture
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Hook]]:
    _Hook.received = []
    _Hook.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret-token"
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALCHEMISER_SLACK", json.dumps({"conn_type": "http", "host": url})
    )
    monkeypatch.delenv("AIRFLOW_CONN_ALCHEMISER_SMTP", raising=False)
    yield _Hook
    server.shutdown()


def test_slack_gets_the_text(slack: type[_Hook]) -> None:
    assert deliver(FAILURE) == ("slack",)
    (payload,) = slack.received
    assert payload["text"].startswith("[alchemiser] FAILED 2026-11-20: execute_sells")


def test_a_slack_failure_is_an_error_that_never_shows_the_webhook_url(slack: type[_Hook]) -> None:
    slack.status = 500
    with pytest.raises(NotificationError, match="HTTP 500") as caught:
        deliver(FAILURE)
    assert "secret-token" not in str(caught.value)


def test_an_smtp_connection_without_recipients_is_refused(
    smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALCHEMISER_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 1, "extra": {}}),
    )
    with pytest.raises(NotificationError, match="extra 'to' names no recipient"):
        deliver(FAILURE)


def test_a_broken_smtp_server_does_not_stop_slack(
    slack: type[_Hook], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on the SMTP port: email fails, Slack is still told, then the error names
    # the channel that failed and the one that delivered.
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALCHEMISER_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": free_port(),
                "extra": {"to": ["ops@example.com"], "disable_ssl": True, "disable_tls": True},
            }
        ),
    )
    with pytest.raises(NotificationError, match=r"1 channel\(s\) failed .*delivered: slack"):
        deliver(FAILURE)
    (payload,) = slack.received
    assert "execute_sells" in payload["text"]


def test_a_message_names_each_held_symbol_and_why() -> None:
    event = RunEvent(
        kind="success",
        dag_id="daily_rebalance",
        run_id="r1",
        session="2026-11-20",
        outcome="partial",
        held=("XLE held: the broker reports it not tradable",),
    )
    assert "XLE held: the broker reports it not tradable" in event.text()
    assert "XLE held: the broker reports it not tradable" in event.html()


def test_a_cleanup_that_could_not_finish_links_the_report_it_wrote(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = RunContext(dag_id="daily_rebalance", run_id="r", session=SESSION, session_source="param")
    monkeypatch.setattr(teardown, "run_context", lambda context: run)
    link = "https://bucket.example/runs/2026-11-20/r/report.html"
    error = CleanupIncompleteError("report written but orders still open", report=link)
    context = {
        "dag_run": SimpleNamespace(dag_id="daily_rebalance", run_id="r"),
        "ti": SimpleNamespace(task_id="report"),
        "exception": error,
    }
    body = teardown.run_event(context, "failure").text()
    assert f"report: {link}" in body
    assert "not written" not in body
