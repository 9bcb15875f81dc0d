"""Airflow extensions for alchemiser: the settlement sensor and its trigger.

Modules here are imported by the dag-processor when it parses DAG files, so their tops stay
light; the broker is reached through `alchemiser.adapters.airflow.settlement` at run time.
"""
