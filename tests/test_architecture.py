"""The layer rule, enforced: dependencies point inward and imports live at module tops."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "include" / "alchemiser"
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


def test_only_the_airflow_adapter_and_the_sandbox_import_airflow() -> None:
    allowed = ("adapters/airflow/", "sandbox/")
    offenders = [
        _rel(p)
        for p in _modules(PACKAGE)
        if not _rel(p).startswith(allowed)
        and any(m.split(".")[0] == "airflow" for m, _ in _imports(p))
    ]
    assert offenders == []


def test_the_paper_exchange_is_independent_of_the_rest_of_the_package() -> None:
    offenders = [
        f"{_rel(p)}: {m}"
        for p in _modules(PACKAGE / "exchange")
        for m, _ in _imports(p)
        if (m.startswith("alchemiser.") and not m.startswith("alchemiser.exchange"))
        or m.split(".")[0] == "alpaca"
    ]
    assert offenders == []


def test_no_imports_hidden_inside_functions_in_the_package() -> None:
    offenders = [f"{_rel(p)}: {m}" for p in _modules(PACKAGE) for m, top in _imports(p) if not top]
    assert offenders == []


def test_dag_and_plugin_code_defer_only_the_modules_that_load_heavy_libraries() -> None:
    deferred = [
        (str(p.relative_to(ROOT)), m)
        for folder in (ROOT / "dags", ROOT / "plugins")
        for p in _modules(folder)
        for m, top in _imports(p)
        if not top
    ]
    assert deferred
    # The task runtime (alpaca-py, pandas, boto3) and the exchange calendar (pandas): both are
    # needed only when a task or the scheduler runs, never while the DAG file is parsed.
    assert {m for _, m in deferred} == {
        "alchemiser.adapters.airflow",
        "alchemiser.calendars.trading",
    }


def test_no_broad_exception_handlers() -> None:
    offenders = []
    for folder in (PACKAGE, ROOT / "plugins", ROOT / "dags"):
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
