"""`make airflow`'s whole life: an operator in a real browser, then Ctrl-C and a restart.

Starts `make airflow`'s configuration (SQLite, LocalExecutor, the paper exchange, a state
folder) with the scheduler creating no runs of its own, signs in through Airflow's login page in
headless chromium, triggers a run by the form, and reads the Portfolio page and the run's Report
view. Screenshots land in `.artifacts/ui/` (the README's picture is one of them). Last, it stops
that deployment and starts `python -m sandbox airflow` itself (`make airflow`) on the same home
and state folder: the run history, the ledger and the account are still there, a second run for
the session places nothing, and Ctrl-C stops every part. One module, so that the four starts
these checks need come down to two.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from alchemiser.cli.main import main as alchemiser
from alchemiser.domain.keys import run_prefix
from sandbox.airflow_rest import AirflowRestMixin
from sandbox.deployment import Deployment
from sandbox.processes import exchange_orders, free_port
from sandbox.serve import make_airflow_config
from tests.backtest.conftest import sample_bars, write_config, write_csvs
from tests.ui.browser import chromium_missing, start_chromium

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "ui"
READY = re.compile(r"Airflow UI at (http://127\.0\.0\.1:\d+)  login: (\S+) / (\S+)")
EXCHANGE = re.compile(r"paper exchange at (http://\S+)")
START_SECONDS = 240


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("ui")
    # make airflow's own configuration; only its scheduler would race the form's run.
    config = replace(
        make_airflow_config(root / "home", root / "state", None), use_job_schedule=False
    )
    with Deployment(config) as deployment:
        deployment.unpause()
        yield deployment


@pytest.fixture(scope="module")
def browser(airflow: Deployment) -> Iterator[WebDriver]:
    assert not chromium_missing(), chromium_missing()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = start_chromium()
    try:
        driver.get(f"{airflow.api_url}/")
        driver.find_element(By.NAME, "username").send_keys(airflow.username)
        driver.find_element(By.NAME, "password").send_keys(airflow.password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait(lambda: "/auth/login" not in driver.current_url, "the sign-in")
        yield driver
    finally:
        driver.quit()


def _wait(ok: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def _shot(driver: WebDriver, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _button(driver: WebDriver, text: str, scope: str = "body") -> WebElement:
    def found() -> list[WebElement]:
        buttons = driver.find_elements(By.CSS_SELECTOR, f"{scope} button")
        return [b for b in buttons if b.text.strip() == text]

    _wait(found, f"a button {text!r}")
    return found()[-1]


def _submit(driver: WebDriver) -> None:
    # A script click: the toast of an earlier refusal may sit over the button for a while.
    button = driver.find_element(By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]")
    driver.execute_script("arguments[0].click()", button)


def _open_trigger_form(driver: WebDriver, airflow: Deployment) -> None:
    driver.get(f"{airflow.api_url}/dags/daily_rebalance")
    _button(driver, "Trigger").click()
    driver.find_element(By.ID, "element_session")


def test_an_anonymous_request_to_the_console_is_refused(airflow: Deployment) -> None:
    paths = ("/alchemiser/", "/alchemiser/ledger", "/alchemiser/runs/x", "/alchemiser/backtests")
    for path in (*paths, "/alchemiser/backtests/x/", "/alchemiser/backtests/x/equity.png"):
        response = requests.get(f"{airflow.api_url}{path}", timeout=10)
        assert response.status_code == 401, path
    forged = requests.get(
        f"{airflow.api_url}/alchemiser/", cookies={"_token": "not-a-jwt"}, timeout=10
    )
    assert forged.status_code in (401, 403)


def test_the_plugin_registers_the_portfolio_page_and_the_report_view(airflow: Deployment) -> None:
    plugins = airflow._request("GET", "plugins")["plugins"]
    views = {v["name"]: v for p in plugins for v in p["external_views"]}
    assert views["Portfolio"]["destination"] == "nav"
    assert views["Report"]["destination"] == "dag_run"
    assert views["Report"]["href"] == "/alchemiser/runs/{RUN_ID}"
    assert views["Backtests"]["destination"] == "nav"
    assert views["Backtests"]["href"] == "/alchemiser/backtests"


def test_an_operator_triggers_by_the_form_and_reads_the_portfolio_and_the_report(
    airflow: Deployment, browser: WebDriver
) -> None:
    session = airflow.exchange_session()
    _open_trigger_form(browser, airflow)
    field = browser.find_element(By.ID, "element_session")
    field.send_keys("11/20/2026")
    _submit(browser)
    _wait(lambda: "Failed to Trigger" in _text(browser), "the form's refusal")
    _shot(browser, "01-form-refuses-a-bad-session")
    assert airflow.runs() == []  # refused before any run was created
    # The UI shows only "Bad Request"; the API's answer it got names the param and the form.
    refused = airflow._http.post(
        airflow._api("dags/daily_rebalance/dagRuns"),
        json={"logical_date": None, "conf": {"session": "11/20/2026"}},
        timeout=10,
    )
    assert refused.status_code == 400
    assert "param session" in refused.text
    assert "does not match" in refused.text

    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(session)
    venue = browser.find_element(By.CSS_SELECTOR, "[role=dialog] input[role=combobox]")
    venue.send_keys("paper-exchange")
    venue.send_keys(Keys.ENTER)
    assert field.get_attribute("value") == session  # typed as it is: no date picker
    _shot(browser, "02-form-filled")
    _submit(browser)
    _wait(lambda: len(airflow.runs()) == 1, "the run the form created")
    (run,) = airflow.runs()
    assert run.conf["session"] == session
    assert run.conf["mode"] == "paper-exchange"
    assert airflow.wait_for_run(run.run_id).state == "success", airflow.describe_run(run.run_id)

    state = airflow.config.state_dir
    assert state is not None
    history = json.loads((state / "alchemiser" / "runs" / "history.json").read_text())
    (line,) = history["runs"]
    report = json.loads((state / "alchemiser" / line["report_key"]).read_text())
    assert report["outcome"] == "success"

    browser.get(f"{airflow.api_url}/alchemiser/")
    page = browser.find_element(By.TAG_NAME, "body").text
    _shot(browser, "03-portfolio-direct")
    assert f"{float(line['portfolio_value']):,.2f}" in page
    assert f"{float(line['traded_value']):,.2f}" in page
    for weight in report["weights"]:
        assert weight["symbol"] in page
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 2  # weights and slippage (no replay yet: the equity charts say so)
    assert all(c.size["height"] > 50 and c.size["width"] > 300 for c in charts)

    # The same page inside Airflow, from the navigation.
    browser.get(f"{airflow.api_url}/plugin/portfolio")
    frame = browser.find_element(By.TAG_NAME, "iframe")
    browser.switch_to.frame(frame)
    _wait(lambda: "Positions versus targets" in _text(browser), "the framed console")
    browser.switch_to.default_content()
    _shot(browser, "04-portfolio-in-airflow")

    # The run's own page has a Report tab showing this run's report.
    browser.get(
        f"{airflow.api_url}/dags/daily_rebalance/runs/{quote(run.run_id, safe='')}/plugin/report"
    )
    frame = browser.find_element(By.TAG_NAME, "iframe")
    browser.switch_to.frame(frame)
    body = browser.find_element(By.TAG_NAME, "body").text
    _wait(lambda: "outcome SUCCESS" in browser.find_element(By.TAG_NAME, "body").text, "report")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert f"session {session}" in body
    assert "slip bps" in body
    assert "Why " in body or "Strategies" in body
    image = browser.find_element(By.CSS_SELECTOR, "img[alt='target versus actual weights']")
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 0  # it rendered
    browser.switch_to.default_content()
    _shot(browser, "05-run-report-view")


def _loaded(driver: WebDriver, image: WebElement) -> bool:
    return bool(driver.execute_script("return arguments[0].naturalWidth > 0", image))


def test_an_operator_reads_a_published_backtest_in_the_console(
    airflow: Deployment, browser: WebDriver, tmp_path: Path
) -> None:
    state = airflow.config.state_dir
    assert state is not None
    argv = ["backtest", "--portfolio", str(write_config(tmp_path))]
    argv += ["--prices", str(write_csvs(tmp_path / "prices", sample_bars()))]
    argv += ["--from", "2023-01-01", "--to", "2023-06-30", "--out", str(tmp_path / "out")]
    argv += ["--state-dir", str(state), "--bucket", airflow.config.bucket, "--publish", "h1-2023"]
    assert alchemiser(argv) == 0
    doc = json.loads((tmp_path / "out" / "tearsheet.json").read_text())
    total = f"{doc['metrics']['total_return']:.2%}"

    # The list, inside Airflow from its navigation.
    browser.get(f"{airflow.api_url}/plugin/backtests")
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    _wait(lambda: "h1-2023" in _text(browser), "the framed backtest list")
    listed = _text(browser)
    assert "2023-01-03 to 2023-06-30" in listed
    assert total in listed
    assert f"{doc['metrics']['max_drawdown']:.2%}" in listed
    browser.switch_to.default_content()
    _shot(browser, "06-backtests-in-airflow")

    # Its tearsheet, opened from the list inside the frame: metrics, and every chart loaded.
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    browser.find_element(By.LINK_TEXT, "h1-2023").click()
    _wait(lambda: "Monthly returns" in _text(browser), "the framed tearsheet")
    assert browser.execute_script("return location.pathname") == "/alchemiser/backtests/h1-2023/"
    body = _text(browser)
    assert "Backtest 2023-01-03 to 2023-06-30" in body
    assert total in body
    assert f"{doc['metrics']['sharpe']:,.2f}" in body
    images = browser.find_elements(By.TAG_NAME, "img")
    assert sorted(i.get_attribute("alt") or "" for i in images) == sorted(doc["charts"])
    _wait(lambda: all(_loaded(browser, i) for i in images), "every chart to load")
    browser.switch_to.default_content()
    _shot(browser, "07-tearsheet-in-airflow")

    # The same page on its own, the folder's address without its slash: charts still resolve.
    browser.get(f"{airflow.api_url}/alchemiser/backtests/h1-2023")
    _wait(lambda: "Monthly returns" in _text(browser), "the tearsheet")
    assert browser.current_url.endswith("/alchemiser/backtests/h1-2023/")
    images = browser.find_elements(By.TAG_NAME, "img")
    _wait(lambda: all(_loaded(browser, i) for i in images), "every chart to load")
    _shot(browser, "08-tearsheet-direct")
    browser.execute_script("arguments[0].scrollIntoView()", images[0])
    _shot(browser, "09-tearsheet-charts")


def test_no_scheduler_xcom_errors(airflow: Deployment) -> None:
    log = (airflow.log_dir / "scheduler.log").read_text(errors="replace")
    assert "XCom not found" not in log


class MadeAirflow(AirflowRestMixin):
    """A `python -m sandbox airflow` process and a REST client for what it printed."""

    def __init__(self, home: Path, state: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env["ALCHEMISER_DEPLOYMENT_HOME"] = str(home)
        env["ALCHEMISER_STATE_DIR"] = str(state)
        env["ALCHEMISER_AIRFLOW_PORT"] = str(free_port())
        env["PYTHONPATH"] = str(ROOT / "include")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "airflow"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""
        self._http = requests.Session()

    def wait_until_ready(self) -> None:
        """Read its output up to the Ctrl-C line, then sign in as the line it printed says."""
        assert self.process.stdout is not None
        # Read the pipe's file descriptor itself: a buffered readline() can take several lines
        # off the pipe and return one, and select() then never wakes for the rest (it hung
        # here once, the ready line sitting in the reader's buffer).
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and "Ctrl-C" not in self.output:
            ready, _, _ = select.select([fd], [], [], 1)
            chunk = os.read(fd, 65536) if ready else b""
            if ready and not chunk:
                break  # the process closed its output: it is gone
            self.output += chunk.decode(errors="replace")
        match, exchange = READY.search(self.output), EXCHANGE.search(self.output)
        assert match is not None, f"make airflow did not get ready:\n{self.output}"
        assert exchange is not None, self.output
        self.api_url, username, password = match.groups()
        self.exchange_url = exchange.group(1)
        self.sign_in(username, password)

    def log_tails(self, names: tuple[str, ...] | None = None) -> str:
        return self.output[-3000:]

    def interrupt(self) -> str:
        """Ctrl-C it and return the rest of its output."""
        self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=120)
        self._http.close()
        return rest


def test_make_airflow_restarted_on_the_same_folders_keeps_history_ledger_and_account(
    airflow: Deployment,
) -> None:
    state = airflow.config.state_dir
    assert state is not None
    session = airflow.exchange_session()
    traded = [r.run_id for r in airflow.runs() if r.state == "success"]
    if not traded:  # this test alone (-k): trade the session first
        traded = [airflow.trigger({"session": session})]
        assert airflow.wait_for_run(traded[0]).state == "success"
    placed = airflow.exchange_orders()
    assert placed
    airflow.stop()

    made = MadeAirflow(airflow.home, state)
    try:
        made.wait_until_ready()
        assert made._http.get(made._api("dags/daily_rebalance"), timeout=10).status_code == 200
        health = requests.get(f"{made.api_url}/api/v2/monitor/health", timeout=10).json()
        assert health["triggerer"]["status"] == "healthy"
        assert (airflow.home / "env.sh").exists()
        assert f"session {session}" in made.output
        assert set(traded) <= {r.run_id for r in made.runs()}  # the console's history
        assert exchange_orders(made.exchange_url) == placed  # the account and its orders
        again = made.trigger({"session": session})
        assert made.wait_for_run(again).state == "success", made.describe_run(again)
        assert len(exchange_orders(made.exchange_url)) == len(
            placed
        )  # the ledger: nothing placed twice
    finally:
        rest = made.interrupt()

    assert made.process.returncode == 0, rest
    assert "stopped" in rest
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{made.api_url}/api/v2/monitor/health", timeout=5)
    prefix = run_prefix(date.fromisoformat(session), again)
    body = json.loads((state / "alchemiser" / prefix / "report.json").read_text())
    assert body["outcome"] == "already_rebalanced"
    assert any(f"already rebalanced by run {run}" in body["note"] for run in traded)
