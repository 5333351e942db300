"""Engine tuning: real transactions and foreign keys on SQLite (pysqlite's defaults have neither),
transactions that wait for SQLite's write lock instead of failing, a page cache and memory-mapped
reads that hold the inbox's indexes at 100,000 referrals (SQLite's default cache is 2 MB per
connection), and no JIT compilation on PostgreSQL (its cost estimate for the inbox and search
queries crosses ``jit_above_cost``; compiling costs more than running them).

SQLite runs in WAL mode (readers never block the writer nor the writer them) and every transaction
takes the write lock when it begins (``BEGIN IMMEDIATE``), waiting up to ``SQLITE_BUSY_TIMEOUT_MS``
for it: a transaction that began deferred, read, then tried to write while another connection held
the lock would fail at once ("database is locked"; SQLite cannot wait there without risking a
deadlock). Only connections opened with the ``SQLITE_DEFERRED`` execution option (the read-only
pages, ``casework/read_only.py``) begin deferred. Within one process the writers queue on a lock of
their own first (``_WriterQueue``): SQLite's busy handler polls with sleeps of up to 100 ms, so under a
steady stream of short writes a waiting thread can miss every chance until its timeout; waiting on a
Python lock it is woken when the lock is released. A lock still not had after the wait is a 503 with
``Retry-After`` (``casework/unit_of_work.py``).

A pooled PostgreSQL connection is checked with a ping before reuse only when it has been idle for
``PING_AFTER_IDLE_SECONDS``: what closes connections (a restart, an idle timeout, a firewall) closes
idle ones, and a ping on every checkout costs a round trip per request. If a connection used in
the last seconds was lost after all, its request fails once and SQLAlchemy discards the whole pool.
"""
from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

SQLITE_CACHE_KIB = 32 * 1024
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_DEFERRED = "casework_sqlite_deferred"

PING_AFTER_IDLE_SECONDS = 10
_IDLE_SINCE = "casework_idle_since"
_HOLDS_WRITER_LOCK = "casework_holds_writer_lock"

_installed = False


def _on_connect(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()
    elif type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


class _WriterQueue:
    """One lock per SQLite engine, held by this process's writing transaction from BEGIN to its end."""

    _locks: dict[int, threading.Lock] = {}
    _guard = threading.Lock()

    @classmethod
    def lock_for(cls, engine: Engine) -> threading.Lock:
        with cls._guard:
            return cls._locks.setdefault(id(engine), threading.Lock())


def _on_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    if connection.get_execution_options().get(SQLITE_DEFERRED):
        connection.exec_driver_sql("BEGIN")
        return
    lock = _WriterQueue.lock_for(connection.engine)
    if lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        connection.info[_HOLDS_WRITER_LOCK] = lock
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release_writer_lock(connection)
        raise


def _release_writer_lock(connection) -> None:
    if connection.dialect.name == "sqlite" and not connection.invalidated:
        _release_from(connection.info)  # an invalidated one releases at checkin


def _release_at_checkin(_dbapi_connection, record) -> None:
    """A connection back in the pool holds no transaction, whatever path it took there."""
    _release_from(record.info)


def _release_from(info: dict) -> None:
    lock = info.pop(_HOLDS_WRITER_LOCK, None)
    if lock is not None:
        lock.release()


def install_engine_events() -> None:
    global _installed
    if _installed:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "begin", _on_begin)
    event.listen(Engine, "commit", _release_writer_lock)
    event.listen(Engine, "rollback", _release_writer_lock)
    event.listen(Pool, "checkin", _release_at_checkin)
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
