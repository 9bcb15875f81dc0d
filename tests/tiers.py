"""Sort every test into a tier from what its code and fixtures reach, so a new test needs no marker.

Tiers, fastest first (`pytest -m <tier>`; `make test-fast` runs `unit`):
- `unit`: pure code and fakes; no socket, no child process (checked while it runs).
- `integration`: the paper exchange, a moto S3 server, DagBag, child processes.
- `e2e`: `airflow dags test` runs against the exchange and S3 (everything under tests/e2e/).
- `deployment`: a multi-process Airflow on PostgreSQL and Redis (explicit marker).

Markers rather than folders: tests mirror the package tree, and a tier is a property of what a
test touches, not of where it lives. A test reaches a *starter* when its function, one of its
fixtures, or a helper from `tests` that either calls (followed transitively) names an object
from a module in STARTERS. An explicit tier marker on a test wins.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

TIERS = ("unit", "integration", "e2e", "deployment")

# Modules whose objects open sockets, start servers or spawn processes when used.
STARTERS = (
    "aiosmtpd",
    "airflow.dag_processing",
    "alchemiser.adapters.alpaca.broker",
    "alchemiser.adapters.alpaca.market_data",
    "alchemiser.adapters.s3",
    "paper_exchange.server",
    "sandbox",
    "alpaca",
    "boto3",
    "botocore",
    "http.client",
    "http.server",
    "moto",
    "multiprocessing",
    "playwright",
    "requests",
    "selenium",
    "socket",
    "socketserver",
    "subprocess",
    "urllib.request",
)
# Objects from here are starters *and* mean a whole Airflow deployment.
DEPLOYMENT_STARTERS = ("sandbox.deployment",)

# Fixtures of these scopes are built once per xdist worker that needs them: keep their tests on one.
SHARED_SCOPES = frozenset({"module", "package", "class"})

# Fixtures that watch a test rather than serve it (they name `socket` to block it).
GUARDS = frozenset({"_unit_tests_stay_pure"})

_TESTS_ROOT = Path(__file__).resolve().parent


def _matches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _module_of(obj: object) -> str | None:
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    if isinstance(module, str):
        return module
    return getattr(type(obj), "__module__", None)


def _is_ours(module: str | None) -> bool:
    return module is not None and (module == "tests" or module.startswith(("tests.", "conftest")))


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _functions_in(obj: object) -> Iterable[Callable[..., Any]]:
    """Yield the plain functions behind a function, method, class or module of ours."""
    if isinstance(obj, types.ModuleType):
        for value in vars(obj).values():
            if _module_of(value) == obj.__name__ and (
                inspect.isfunction(value) or inspect.isclass(value)
            ):
                yield from _functions_in(value)
    elif inspect.isclass(obj):
        for value in vars(obj).values():
            inner = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(inner):
                yield inner
    elif inspect.ismethod(obj):
        yield obj.__func__
    elif inspect.isfunction(obj):
        yield obj


class Reach:
    """What a test's code reaches, memoised across the whole collection."""

    def __init__(self) -> None:
        self._seen: dict[int, str | None] = {}

    def starter(self, obj: object) -> str | None:
        """Return `module.name` of a starter `obj` reaches, or None."""
        key = id(obj)
        if key in self._seen:
            return self._seen[key]
        self._seen[key] = None  # a cycle reaches nothing new
        found = self._starter(obj)
        self._seen[key] = found
        return found

    def _starter(self, obj: object) -> str | None:
        module = _module_of(obj)
        if module is None:
            return None
        if _matches(module, STARTERS):
            if isinstance(obj, types.ModuleType):
                return module
            return f"{module}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"
        if not _is_ours(module):
            return None
        for function in _functions_in(obj):
            found = self._in_function(function)
            if found:
                return found
        return None

    def _in_function(self, function: Callable[..., Any]) -> str | None:
        namespace = getattr(function, "__globals__", {})
        code = getattr(function, "__code__", None)
        names = _code_names(code) if code is not None else set()
        reached = [namespace[n] for n in sorted(names) if n in namespace]
        reached += [cell.cell_contents for cell in getattr(function, "__closure__", None) or ()]
        for value in reached:
            found = self.starter(value)
            if found:
                return found
        return None


def _test_function(item: pytest.Item) -> object:
    function = getattr(item, "obj", None)
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    function = inner or function
    return inspect.unwrap(function) if callable(function) else function


def _fixture_functions(item: pytest.Item) -> Iterable[object]:
    info = getattr(item, "_fixtureinfo", None)
    for name, definitions in getattr(info, "name2fixturedefs", {}).items():
        if definitions and name not in GUARDS:
            yield definitions[-1].func


def classify(item: pytest.Item, reach: Reach) -> tuple[str, str]:
    """Return (tier, why) for one collected test."""
    for tier in reversed(TIERS):
        if item.get_closest_marker(tier) is not None:
            return tier, "marked"
    path = Path(str(item.path)).resolve()
    if path.is_relative_to(_TESTS_ROOT / "e2e"):
        return "e2e", "under tests/e2e"
    for obj in (_test_function(item), *_fixture_functions(item)):
        found = reach.starter(obj)
        if found:
            tier = "deployment" if _matches(found, DEPLOYMENT_STARTERS) else "integration"
            return tier, f"reaches {found}"
    return "unit", "reaches no server or process"


def shared_fixture_group(item: pytest.Item) -> str | None:
    """Name the xdist group of a test using a module-wide fixture of ours, or None."""
    info = getattr(item, "_fixtureinfo", None)
    for definitions in getattr(info, "name2fixturedefs", {}).values():
        if not definitions:
            continue
        definition = definitions[-1]
        if definition.scope in SHARED_SCOPES and _is_ours(_module_of(definition.func)):
            module = getattr(item, "module", None)
            return f"module:{getattr(module, '__name__', item.nodeid.split('::')[0])}"
    return None
