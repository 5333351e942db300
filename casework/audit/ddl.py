"""Triggers that make audit_events append-only, shared by migrations and test set-up.

One change is allowed: sealing an event, i.e. setting the sequence number, previous hash, key id
and hash of a row that has no sequence number yet, every other column unchanged.
"""

GENESIS_HASH = "0" * 64
IMMUTABLE_COLUMNS = ("id", "occurred_at", "actor_id", "actor_name", "agency_id", "source_ip", "event",
                     "object_type", "object_id", "trigger", "from_state", "to_state", "outcome", "payload")
_CHANGED = " OR ".join(f'NEW."{name}" IS NOT OLD."{name}"' for name in IMMUTABLE_COLUMNS)

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR {_CHANGED}
       BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events are append-only'); END""",
]

POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
            AND to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash' - 'key_id'
                = to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash' - 'key_id' THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_events are append-only';
       END; $$ LANGUAGE plpgsql""",
    """DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]

DROP = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_events_no_update", "DROP TRIGGER IF EXISTS audit_events_no_delete"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
                   "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events"],
}


def append_only_statements(dialect_name: str) -> list[str]:
    return {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect_name, [])


def install_append_only(connection) -> None:
    """Create (or replace) the append-only triggers on ``connection``'s database."""
    for statement in append_only_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) "
        f"SELECT 1, 0, '{GENESIS_HASH}' WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head)"
    )


def drop_append_only(connection) -> None:
    """Remove the append-only triggers (what anyone with the owner's rights can do; tests use it
    to show that ``casework audit verify`` still finds the tampering)."""
    for statement in DROP.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
