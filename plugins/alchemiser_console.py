"""Registers the console: "Portfolio" and "Backtests" in the navigation, a "Report" tab per run.

Airflow 3.1+ adds UI through a FastAPI app mounted on the API server (`fastapi_apps`) and
`external_views` that frame its pages; the app checks the signed-in user itself.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from alchemiser.adapters.airflow.console import console_app
from alchemiser.ports import ObjectStore

PREFIX = "/alchemiser"


def _store() -> ObjectStore:
    # The task runtime (alpaca-py, pandas, boto3) loads only when a page is first served.
    from alchemiser.adapters.airflow import wiring  # noqa: PLC0415 - runtime only

    return wiring.object_store()


class AlchemiserConsolePlugin(AirflowPlugin):
    """The portfolio console and the run report view."""

    name = "alchemiser_console"
    fastapi_apps = [  # noqa: RUF012 - the attribute Airflow reads
        {"app": console_app(_store, PREFIX), "url_prefix": PREFIX, "name": "alchemiser console"}
    ]
    external_views = [  # noqa: RUF012 - the attribute Airflow reads
        {
            "name": "Portfolio",
            "href": f"{PREFIX}/",
            "destination": "nav",
            "url_route": "portfolio",
            "nav_top_level": True,
        },
        {
            "name": "Backtests",
            "href": f"{PREFIX}/backtests",
            "destination": "nav",
            "url_route": "backtests",
            "nav_top_level": True,
        },
        {
            "name": "Report",
            "href": f"{PREFIX}/runs/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "report",
        },
    ]
