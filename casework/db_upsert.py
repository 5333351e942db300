"""INSERT … ON CONFLICT DO UPDATE on both databases (SQLite ≥ 3.24 and PostgreSQL share the syntax)."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import Select, Table, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def _insert(connection, table: Table):
    return (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)


def upsert(connection, table: Table, values: dict | list[dict], keys: list[str],
           update: Callable[[object], dict]) -> None:
    """Insert ``values`` (one row, or several in one statement) into ``table``, or, where a row with
    the same ``keys`` exists, set the columns ``update(excluded)`` gives (``excluded``: the row that
    was to be inserted). Rows of one statement must differ in their keys."""
    if isinstance(values, list) and not values:
        return
    statement = _insert(connection, table).values(values if isinstance(values, list) else [values])
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded)))


def upsert_from_select(connection, table: Table, columns: list[str], rows: Select, keys: list[str],
                       update: Callable[[object], dict]) -> None:
    """The same, for the rows a SELECT gives (in its order), in one statement."""
    # SQLite needs a WHERE in the SELECT of an upsert (else ON CONFLICT reads as a join's ON).
    statement = _insert(connection, table).from_select(columns, rows.where(true()))
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=update(statement.excluded)))
