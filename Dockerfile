# The Airflow image the docker-compose stack runs: the official image plus what our DAG,
# plugins and the `alchemiser` package import (alpaca-py, boto3, pydantic, exchange-calendars...).
# Build: docker compose build   (or: docker build -t alchemiser-airflow:3.3.2 .)
#
# `include/` (the alchemiser package), `dags/` and `plugins/` are mounted by docker-compose.yaml
# rather than baked in, so a code change needs a container restart, not a rebuild.
FROM apache/airflow:3.3.2-python3.11

# Extending the image the way the official docs do it: pip runs as the airflow user, no
# constraints file, and apache-airflow is repeated at the image's own version so that no
# requirement can make pip upgrade or downgrade Airflow underneath the image.
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /requirements.txt
