"""The Airflow-facing side: connections, variables and task entry points.

The only package under `alchemiser` that imports Airflow.
"""
