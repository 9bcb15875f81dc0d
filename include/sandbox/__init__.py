"""The embedded default environment: local paper exchange, S3 server and AIRFLOW_HOME.

`python -m sandbox run` is what `make run` calls; tests start the same servers
through `start_exchange` and `start_s3`.
"""
