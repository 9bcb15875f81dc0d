"""The console as a FastAPI app for Airflow's API server, answering only to signed-in users.

Airflow mounts a plugin's app but does not protect it: every route here depends on Airflow's
own `get_user` (the UI's `_token` cookie or an `Authorization: Bearer` token; 401 without one,
403 for a bad one). Pages read only the object store; the store is built once a minute at most.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alchemiser.console.backtests import TEARSHEET_POLICY, backtests_page, tearsheet_page
from alchemiser.console.pages import ledger_page, portfolio_page, report_chart, report_page
from alchemiser.domain.backtests import BacktestNameError, backtest_name, content_type
from alchemiser.domain.errors import ArtifactNotFoundError
from alchemiser.ports import ObjectStore
from alchemiser.services.backtests import read_backtest_file

STORE_SECONDS = 60.0
"""How long a built store is reused: Variables changed in the UI apply within a minute."""


class _CachedStore:
    def __init__(self, build: Callable[[], ObjectStore]) -> None:
        self._build = build
        self._store: ObjectStore | None = None
        self._built_at = 0.0

    def __call__(self) -> ObjectStore:
        if self._store is None or time.monotonic() - self._built_at > STORE_SECONDS:
            self._store, self._built_at = self._build(), time.monotonic()
        return self._store


def console_app(build_store: Callable[[], ObjectStore], base: str) -> FastAPI:
    """Return the console app; `base` is the URL prefix Airflow mounts it under."""
    store = _CachedStore(build_store)
    app = FastAPI(
        title="alchemiser console",
        dependencies=[Depends(get_user)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/", response_class=HTMLResponse)
    def portfolio() -> str:
        return portfolio_page(store(), base)

    @app.get("/ledger", response_class=HTMLResponse)
    def ledger(session: date | None = Query(default=None)) -> str:  # noqa: B008 - FastAPI's idiom
        return ledger_page(store(), session, base)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_report(run_id: str) -> str:
        try:
            return report_page(store(), run_id, base)
        except ArtifactNotFoundError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.get("/runs/{run_id}/weights.svg")
    def weights(run_id: str) -> Response:
        try:
            return Response(report_chart(store(), run_id), media_type="image/svg+xml")
        except ArtifactNotFoundError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    _backtest_routes(app, store, base)
    return app


def _backtest_routes(app: FastAPI, store: Callable[[], ObjectStore], base: str) -> None:
    """Add the published backtests: their list, and each tearsheet with the files beside it."""
    policy = {"Content-Security-Policy": TEARSHEET_POLICY}

    @app.get("/backtests", response_class=HTMLResponse)
    def backtests() -> str:
        return backtests_page(store(), base)

    @app.get("/backtests/{name}")
    def backtest_folder(name: str) -> RedirectResponse:
        # Relative, so it stays below whatever prefix the console is mounted under.
        try:
            return RedirectResponse(f"{backtest_name(name)}/", status_code=308)
        except BacktestNameError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @app.get("/backtests/{name}/", response_class=HTMLResponse)
    def tearsheet(name: str) -> HTMLResponse:
        try:
            return HTMLResponse(tearsheet_page(store(), name, base), headers=policy)
        except BacktestNameError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        except ArtifactNotFoundError as exc:  # its message names the store's folder: not shown
            raise HTTPException(status_code=404, detail=f"no backtest {name!r}") from exc

    @app.get("/backtests/{name}/{file}")
    def backtest_file(name: str, file: str) -> Response:
        try:
            body = read_backtest_file(store(), name, file)
        except BacktestNameError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        except ArtifactNotFoundError as exc:
            raise HTTPException(status_code=404, detail=f"no {file!r} in {name!r}") from exc
        return Response(body, media_type=content_type(file), headers=policy)
