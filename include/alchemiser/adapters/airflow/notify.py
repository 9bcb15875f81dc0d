"""Deliver run notifications through the connections that exist; none configured = log only.

`alchemiser_smtp` (an SMTP connection; extra `to` lists recipients, `from_email` the sender)
sends email through the SMTP provider's hook; `alchemiser_slack` (host = a Slack incoming
webhook URL) posts the text. A delivery that fails raises NotificationError naming the channel.
"""

from __future__ import annotations

import smtplib

import requests
import structlog
from airflow.providers.smtp.hooks.smtp import SmtpHook
from airflow.sdk import BaseHook, Connection
from airflow.sdk.exceptions import AirflowException, AirflowNotFoundException

from alchemiser.domain.errors import AlchemiserError
from alchemiser.notify.message import RunEvent

log = structlog.get_logger(__name__)

SMTP_CONN_ID = "alchemiser_smtp"
SLACK_CONN_ID = "alchemiser_slack"
SLACK_TIMEOUT_SECONDS = 10


class NotificationError(AlchemiserError):
    """A configured notification channel could not deliver."""


def deliver(event: RunEvent) -> tuple[str, ...]:
    """Log the event and send it to every configured channel; return the channels used.

    Channels are independent: each is tried whatever happened to the others, and the
    failures are raised together at the end (a broken SMTP server never silences Slack).
    """
    log.info(
        "run notification",
        kind=event.kind,
        run_id=event.run_id,
        session=event.session,
        outcome=event.outcome,
        task_id=event.task_id,
    )
    sent: list[str] = []
    failed: list[str] = []
    for name, conn_id, send in (("smtp", SMTP_CONN_ID, _email), ("slack", SLACK_CONN_ID, _slack)):
        conn = _connection(conn_id)
        if conn is None:
            continue
        try:
            send(conn, event)
        except NotificationError as exc:
            log.error("notification not delivered", channel=name, error=str(exc))
            failed.append(str(exc))
            continue
        sent.append(name)
    if failed:
        raise NotificationError(
            f"{len(failed)} channel(s) failed ({'; '.join(failed)}); delivered: "
            f"{', '.join(sent) or 'none'}"
        )
    return tuple(sent)


def _connection(conn_id: str) -> Connection | None:
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def _email(conn: Connection, event: RunEvent) -> None:
    recipients = conn.extra_dejson.get("to")
    if not recipients:
        raise NotificationError(f"connection {conn.conn_id}: extra 'to' names no recipient")
    try:
        with SmtpHook(smtp_conn_id=conn.conn_id) as hook:
            hook.send_email_smtp(to=recipients, subject=event.subject(), html_content=event.html())
    except (AirflowException, smtplib.SMTPException, OSError) as exc:
        raise NotificationError(f"email via {conn.conn_id} failed: {exc}") from exc


def _slack(conn: Connection, event: RunEvent) -> None:
    url = conn.host or ""
    if not url.startswith("https://") and not url.startswith("http://"):
        raise NotificationError(f"connection {conn.conn_id}: host must be the webhook URL")
    try:
        response = requests.post(url, json={"text": event.text()}, timeout=SLACK_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        # The webhook URL is the secret: name the failure, never the URL (hence `from None`).
        raise NotificationError(f"slack via {conn.conn_id} failed: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise NotificationError(f"slack via {conn.conn_id} failed: HTTP {response.status_code}")
