"""Airflow extensions for alchemiser: the task operators, the settlement sensor and trigger,
the trading-session timetable, the report link and the run notifier.

Modules here are imported by the dag-processor when it parses DAG files, so their tops stay
light; the product is reached through `alchemiser.adapters.airflow` at run time only.
"""
