"""Triggers that make audit_events append-only, shared by migrations and test set-up."""

GENESIS_HASH = "0" * 64

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END""",
]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_events are append-only'; END; $$ LANGUAGE plpgsql""",
    """DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]


def append_only_statements(dialect_name: str) -> list[str]:
    return {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect_name, [])


def install_append_only(connection) -> None:
    """Create the append-only triggers on ``connection``'s database."""
    for statement in append_only_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) "
        f"SELECT 1, 0, '{GENESIS_HASH}' WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head)"
    )
