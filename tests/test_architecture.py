"""The layer rule, enforced: dependencies point inward and imports live at module tops."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "include" / "alchemiser"
EXCHANGE = ROOT / "include" / "paper_exchange"
SANDBOX = ROOT / "include" / "sandbox"
OUTSIDE = ("airflow", "alpaca", "boto3", "botocore", "requests")


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Return (module, at_top_level) for each import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top or _in_type_checking(tree, node)))
    return found


def _in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    return any(
        isinstance(block, ast.If)
        and isinstance(block.test, ast.Name)
        and block.test.id == "TYPE_CHECKING"
        and node in block.body
        for block in tree.body
    )


def _rel(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize(
    "layer", ["domain", "planning", "strategy", "execution", "ledger", "services", "backtest"]
)
def test_inner_layers_import_no_airflow_sdk_or_adapter(layer: str) -> None:
    offenders = [
        f"{_rel(p)}: {m}"
        for p in _modules(PACKAGE / layer)
        for m, _ in _imports(p)
        if m.split(".")[0] in OUTSIDE
        or m.startswith(("alchemiser.adapters", "alchemiser.bootstrap"))
    ]
    assert offenders == []


def test_domain_imports_nothing_but_itself_and_pydantic() -> None:
    offenders = [
        f"{_rel(p)}: {m}"
        for p in _modules(PACKAGE / "domain")
        for m, _ in _imports(p)
        if m.startswith("alchemiser.") and not m.startswith("alchemiser.domain")
    ]
    assert offenders == []


# What each room of the product package may import from the others: the tree's story, checked.
# Dependencies point inward, towards `domain`; adapters and the entry points sit outside.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "ports": {"domain"},
    "planning": {"domain"},
    "risk": {"domain"},
    "notify": {"domain"},
    "reporting": {"domain"},
    "strategy": {"domain"},
    "calendars": {"domain"},
    "ledger": {"domain", "ports"},
    "execution": {"domain", "ledger", "ports"},
    "marketdata": {"domain", "ports", "strategy"},
    "replay": {"domain", "execution", "planning"},
    "backtest": {"calendars", "domain", "replay", "reporting", "strategy"},
    "console": {"domain", "ledger", "ports", "reporting", "services"},
    "services": {
        "calendars",
        "domain",
        "execution",
        "ledger",
        "marketdata",
        "planning",
        "ports",
        "replay",
        "reporting",
        "risk",
        "strategy",
    },
    # The composition root: the only room outside `adapters` that may import an adapter.
    "bootstrap": {"adapters", "domain", "ports"},
    "adapters": {
        "bootstrap",
        "calendars",
        "console",
        "defaults",
        "domain",
        "execution",
        "ledger",
        "notify",
        "ports",
        "risk",
        "services",
        "strategy",
    },
    "cli": {
        "backtest",
        "bootstrap",
        "calendars",
        "defaults",
        "domain",
        "ledger",
        "marketdata",
        "ports",
        "services",
        "strategy",
    },
    "__main__": {"cli"},
    "defaults": set(),
    "__init__": set(),
}


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def test_every_room_of_the_package_has_its_dependency_rule() -> None:
    rooms = {_room(p) for p in _modules(PACKAGE)}
    assert rooms == set(ALLOWED)


def test_each_room_imports_only_the_rooms_it_is_allowed() -> None:
    offenders = [
        f"{_rel(p)}: {m}"
        for p in _modules(PACKAGE)
        for m, _ in _imports(p)
        if m.startswith("alchemiser.")
        and m.split(".")[1] != _room(p)
        and m.split(".")[1] not in ALLOWED[_room(p)]
    ]
    assert offenders == []


def test_only_the_composition_root_imports_adapters_among_the_other_rooms() -> None:
    takers = {room for room, allowed in ALLOWED.items() if "adapters" in allowed}
    assert takers == {"bootstrap"}


# Who outside the product package may import which of its modules: the entry points beside it.
OUTSIDE_ALLOWED: dict[str, tuple[str, ...]] = {
    # DAG file and plugins: the Airflow adapter (deferred to run time, see below), the calendar
    # the timetable wraps, the domain's errors and session dates, and the ports (as types).
    "dags": ("alchemiser.adapters.airflow",),
    "plugins": (
        "alchemiser.adapters.airflow",
        "alchemiser.calendars.trading",
        "alchemiser.domain",
        "alchemiser.ports",
    ),
    # The sandbox launches the product: it builds what it reads through bootstrap.
    "include/sandbox": (
        "alchemiser.adapters.airflow.connections",
        "alchemiser.bootstrap",
        "alchemiser.defaults",
        "alchemiser.domain",
        "alchemiser.ports",
    ),
    "include/paper_exchange": (),
}


@pytest.mark.parametrize("folder", sorted(OUTSIDE_ALLOWED))
def test_the_entry_points_beside_the_package_import_only_their_share_of_it(folder: str) -> None:
    allowed = OUTSIDE_ALLOWED[folder]
    offenders = [
        f"{p.relative_to(ROOT)}: {m}"
        for p in _modules(ROOT / folder)
        for m, _ in _imports(p)
        if m.split(".")[0] == "alchemiser"
        and not any(m == a or m.startswith(f"{a}.") for a in allowed)
    ]
    assert offenders == []


# Real adapters and SDK clients, built only in bootstrap.py (the SDK clients an adapter wraps
# are built inside that adapter's own class).
BUILT_ONLY_IN_BOOTSTRAP = {
    "AlpacaBroker",
    "AlpacaMarketData",
    "S3ObjectStore",
    "LocalObjectStore",
    "SystemClock",
    "boto3.client",
    "boto3.resource",
    "boto3.Session",
    "boto3.session.Session",
    "TradingClient",
    "StockHistoricalDataClient",
}
SDK_CLIENT_OWNERS = {"adapters/alpaca/broker.py", "adapters/alpaca/market_data.py"}


def _called_names(path: Path) -> list[tuple[str, int]]:
    """Return (dotted callee, line) for every call of a name or attribute chain in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            parts, target = [], node.func
            while isinstance(target, ast.Attribute):
                parts.append(target.attr)
                target = target.value
            if isinstance(target, ast.Name):
                found.append((".".join([target.id, *reversed(parts)]), node.lineno))
    return found


def test_real_adapters_and_sdk_clients_are_built_only_in_the_composition_root() -> None:
    offenders = []
    for folder in (PACKAGE, SANDBOX, ROOT / "plugins", ROOT / "dags"):
        for path in _modules(folder):
            rel = str(path.relative_to(PACKAGE)) if path.is_relative_to(PACKAGE) else ""
            if rel == "bootstrap.py":
                continue
            for name, line in _called_names(path):
                sdk_owner = rel in SDK_CLIENT_OWNERS and name in {
                    "TradingClient",
                    "StockHistoricalDataClient",
                }
                if name in BUILT_ONLY_IN_BOOTSTRAP and not sdk_owner:
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {name}(")
    assert offenders == []


def test_the_rule_above_sees_a_construction(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import boto3\nboto3.client('s3')\nSystemClock().now()\n", encoding="utf-8")
    assert [n for n, _ in _called_names(probe)] == ["boto3.client", "SystemClock"]


def test_one_wrapper_over_exchange_calendars_in_the_product() -> None:
    importers = [
        _rel(p)
        for p in _modules(PACKAGE)
        if any(m.split(".")[0] == "exchange_calendars" for m, _ in _imports(p))
    ]
    assert importers == ["calendars/trading.py"]


def test_only_the_airflow_adapter_imports_airflow() -> None:
    offenders = [
        _rel(p)
        for p in _modules(PACKAGE)
        if not _rel(p).startswith("adapters/airflow/")
        and any(m.split(".")[0] == "airflow" for m, _ in _imports(p))
    ]
    assert offenders == []


def test_the_product_knows_nothing_of_the_tools_beside_it() -> None:
    """The paper exchange and the sandbox are tools beside the product, never inside it."""
    offenders = [
        f"{_rel(p)}: {m}"
        for p in _modules(PACKAGE)
        for m, _ in _imports(p)
        if m.split(".")[0] in {"paper_exchange", "sandbox"}
    ]
    assert offenders == []


def test_the_paper_exchange_is_independent_of_the_product_and_the_sdk() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {m}"
        for p in _modules(EXCHANGE)
        for m, _ in _imports(p)
        if m.split(".")[0] in {"alchemiser", "sandbox", "alpaca", "airflow"}
    ]
    assert offenders == []


def test_no_imports_hidden_inside_functions() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {m}"
        for folder in (PACKAGE, EXCHANGE, SANDBOX)
        for p in _modules(folder)
        for m, top in _imports(p)
        if not top
    ]
    assert offenders == []


def test_dag_and_plugin_code_defer_only_the_modules_a_parse_must_not_pay_for() -> None:
    deferred = [
        (str(p.relative_to(ROOT)), m)
        for folder in (ROOT / "dags", ROOT / "plugins")
        for p in _modules(folder)
        for m, top in _imports(p)
        if not top
    ]
    assert deferred
    # The task runtime (alpaca-py, pandas, boto3) and the exchange calendar (pandas): both are
    # needed only when a task or the scheduler runs, never while the DAG file is parsed. So are
    # the domain's errors and session dates, which cost each parse 2.4 and 1.3 million
    # instructions against a one-task DAG's 6.6 (tests/dags: a parse loads no alchemiser.*).
    assert {m for _, m in deferred} == {
        "alchemiser.adapters.airflow",
        "alchemiser.calendars.trading",
        "alchemiser.domain.errors",
        "alchemiser.domain.sessions",
    }


def test_no_broad_exception_handlers() -> None:
    offenders = []
    for folder in (PACKAGE, EXCHANGE, SANDBOX, ROOT / "plugins", ROOT / "dags"):
        for path in _modules(folder):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ExceptHandler) and (
                    node.type is None
                    or (
                        isinstance(node.type, ast.Name)
                        and node.type.id in {"Exception", "BaseException"}
                    )
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
