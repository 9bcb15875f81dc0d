"""The backing services of a Celery or PostgreSQL deployment: its database and Redis keys."""

from __future__ import annotations

from typing import cast

import redis
import sqlalchemy

POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432"
# Redis DB 0 is everybody's default; ours is a high one, and inside it every key we create
# carries this deployment's token, so a stop deletes only what this deployment made.
REDIS_URL = "redis://127.0.0.1:6379/11"


def create_database(name: str) -> None:
    """Create the deployment's own PostgreSQL database."""
    engine = sqlalchemy.create_engine(f"{POSTGRES_URL}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_database(name: str) -> None:
    engine = sqlalchemy.create_engine(f"{POSTGRES_URL}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def delete_redis_keys(token: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"*{token}*"):
            client.delete(key)
        # Kombu's shared binding sets list every worker's queues: take out only ours.
        for key in client.scan_iter(match="_kombu.binding.*", _type="set"):
            # redis-py types the sync and async clients' replies as one union.
            members = cast("set[bytes]", client.smembers(key))
            ours = [m for m in members if token.encode() in m]
            if ours:
                client.srem(key, *ours)
    finally:
        client.close()
