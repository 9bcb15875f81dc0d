"""Test-wide environment: Airflow gets a throwaway home, never the user's ~/airflow."""

from __future__ import annotations

import os
import tempfile

# Set before anything imports airflow (pytest loads this file first).
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="alchemiser-test-airflow-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ.setdefault("AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES", "airflow.* alchemiser.*")
