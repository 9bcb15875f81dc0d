"""The console's page time with 250 runs of history in S3 (a moto server on loopback).

Each page is requested once before the samples: that first request also opens the S3
connection and meets the moto server's own one-time set-up (it varied from 40 to 280 ms), so it
is its own row and the 300 ms check holds every later request.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from statistics import median

import boto3
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from alchemiser.adapters.airflow.console import console_app
from alchemiser.adapters.s3.store import S3ObjectStore
from alchemiser.domain.history import RunSummary
from alchemiser.domain.keys import HISTORY_KEY
from alchemiser.services.history import load_history
from sandbox.processes import start_s3
from tests.benchmarks import BenchContext, Row
from tests.console.test_console import traded_store

RUNS = 250
LIMIT_MS = 300.0


def run(ctx: BenchContext) -> list[Row]:
    """Fill S3 with RUNS runs (reports, history, ledger, equity curve); time each page."""
    source = traded_store(ctx.workdir)
    (first,) = load_history(source).runs
    with start_s3(ctx.workdir / "s3-console") as server:
        client = boto3.client(
            "s3",
            endpoint_url=server.url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="bench")
        store = S3ObjectStore(client, "bench")
        summaries = []
        for i in range(RUNS):
            session = first.session - timedelta(days=RUNS - 1 - i)
            run_id = f"scheduled__{session.isoformat()}T20:30:00+00:00"
            key = f"runs/{session}/{run_id}/report.json"
            store.put(key, source.get(first.report_key))
            summaries.append(
                first.model_copy(
                    update={"run_id": run_id, "session": session, "report_key": key}
                ).model_dump(mode="json")
            )
        history = {"schema_version": 1, "runs": summaries}
        store.put(HISTORY_KEY, json.dumps(history).encode())
        for key, body in source.objects.items():
            if key.startswith(("ledger/", "replay/")):
                store.put(key, body)
        app = console_app(lambda: store, "/alchemiser")
        app.dependency_overrides[get_user] = object
        http = TestClient(app)
        last: RunSummary = RunSummary.model_validate(summaries[-1])
        pages = {
            "portfolio": "/",
            "ledger of a session": f"/ledger?session={first.session}",
            "run report view": f"/runs/{last.run_id}",
        }
        rows: list[Row] = []
        for name, path in pages.items():
            times = []
            for _ in range(1 + max(5, ctx.repeat * 5)):
                started = time.perf_counter()
                response = http.get(path)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            cold, times = times[0], times[1:]
            rows += [
                {
                    "metric": f"console {name}, {RUNS} runs of history, median (max "
                    f"{max(times):.0f} ms)",
                    "value": round(median(times), 1),
                    "unit": "ms",
                    "target": f"max < {LIMIT_MS:g} ms",
                    "ok": max(times) < LIMIT_MS,
                },
                {  # the first request also sets up connections: its own row, not in the check
                    "metric": f"console {name}, first request",
                    "value": round(cold, 1),
                    "unit": "ms",
                },
            ]
    return rows
