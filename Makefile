# alchemiser: `make run` for one full daily rebalance on the embedded defaults, `make test-fast`
# while you work, `make test` for the whole suite (CI). All create and refresh .venv themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= $(shell command -v python3.11 || command -v python3)
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: help venv run airflow test test-fast test-deploy check lint typecheck pytest bench backtest fmt clean reset-state

help: ## Show every target
	@grep -E '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "alchemiser needs Python 3.11 (found $$($(PYTHON) --version)); set PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing dependencies into $(VENV) (first time: a few minutes)"
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

venv: $(STAMP) ## Create or refresh .venv from the pinned requirements

STATE_DIR := $(or $(ALCHEMISER_STATE_DIR),$(CURDIR)/.alchemiser-state)

# Only `make run FORCE=1` on the command line forces: a FORCE left in the environment does not.
run: $(STAMP) ## Run one daily_rebalance on the paper exchange, state kept in .alchemiser-state/ (FORCE=1: trade a rebalanced session again)
	@$(PY) -m sandbox run $(if $(filter command line,$(origin FORCE)),$(if $(FORCE),--force))

airflow: $(STAMP) ## Start a local Airflow (UI, scheduler, triggerer...) with the paper exchange, state kept in .alchemiser-state/; Ctrl-C stops
	@$(PY) -m sandbox airflow

# xdist workers for `make test` (tests/conftest.py keeps the deployment tier on one worker). The
# Airflow-starting tests mostly wait on child processes, so 4 workers keep 2 cores busy: measured
# 11 min 44 s on 4 against 18 min 19 s on 2 (README, Development). WORKERS=0 runs in one process.
WORKERS ?= 4
PYTEST_PARALLEL := $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadgroup)

test: $(STAMP) check pytest ## Lint, type-check and run the whole test suite, all four tiers (CI runs this)

test-fast: $(STAMP) lint ## Lint and the unit tier: the loop while you work (under a minute)
	$(PY) -m pytest -m unit -q

test-deploy: $(STAMP) ## Only the deployment tier: multi-process Airflow (PostgreSQL, Redis; a few minutes)
	$(PY) -m pytest -m deployment

check: lint typecheck ## Lint and type-check

lint: $(STAMP) ## ruff: lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP) ## mypy --strict on the package, plugins, DAGs and tests
	$(VENV)/bin/mypy include plugins dags tests

pytest: $(STAMP) ## The whole test suite without lint (WORKERS=N xdist workers, default 4)
	$(PY) -m pytest $(PYTEST_PARALLEL)

bench: $(STAMP) ## Run the benchmarks: prints a table, writes .bench/results.json
	$(PY) -m tests.benchmarks.run

BACKTEST := .backtest
backtest: $(STAMP) ## Backtest include/strategies/portfolio.yaml 2021-2025 on generated prices: .backtest/tearsheet.html
	@test -d $(BACKTEST)/prices || $(PY) -m alchemiser.backtest.sample $(BACKTEST)/prices
	$(PY) -m alchemiser backtest --portfolio include/strategies/portfolio.yaml \
		--prices $(BACKTEST)/prices --from 2021-01-01 --to 2025-12-31 --out $(BACKTEST) --cost-bps 2

fmt: $(STAMP) ## Format and auto-fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

reset-state: ## Forget the local state: ledger, reports, bar cache and the paper exchange's account
	rm -rf "$(STATE_DIR)"

clean: reset-state ## Remove the local state, the local Airflow home and caches (keeps .venv)
	rm -rf .airflow .bench .backtest .pytest_cache .mypy_cache .ruff_cache
