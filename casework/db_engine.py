"""Engine tuning: real transactions and foreign keys on SQLite (pysqlite's defaults have neither),
a page cache and memory-mapped reads that hold the inbox's indexes at 100,000 referrals (SQLite's
default cache is 2 MB per connection), and no JIT compilation on PostgreSQL (its cost estimate for the
inbox and search queries crosses ``jit_above_cost``; compiling costs more than running them).

A pooled PostgreSQL connection is checked with a ping before reuse only when it has been idle for
``PING_AFTER_IDLE_SECONDS``: what closes connections (a restart, an idle timeout, a firewall) closes
idle ones, and a ping on every checkout costs a round trip per request. If a connection used in
the last seconds was lost after all, its request fails once and SQLAlchemy discards the whole pool.
"""
from __future__ import annotations

import sqlite3
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

SQLITE_CACHE_KIB = 32 * 1024
SQLITE_MMAP_BYTES = 256 * 1024 * 1024

PING_AFTER_IDLE_SECONDS = 10
_IDLE_SINCE = "casework_idle_since"

_installed = False


def _on_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


def _on_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def install_engine_events() -> None:
    global _installed
    if _installed:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "begin", _on_begin)
    _installed = True


def install_idle_ping(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection at checkout if it has been idle for a while."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def stamp(_dbapi_connection, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError() from error
