"""INSERT … ON CONFLICT DO UPDATE on both databases (SQLite ≥ 3.24 and PostgreSQL share the syntax)."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def upsert(connection, table: Table, values: dict, keys: list[str], update: Callable[[object], dict]) -> None:
    """Insert ``values`` into ``table``, or, when a row with the same ``keys`` exists, set the
    columns ``update(excluded)`` gives (``excluded``: the row that was to be inserted)."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values)
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded)))
