"""Use cases: one function per DAG task, wired to ports; no Airflow, no SDK types."""
