"""Re-key the registry after the normalisation rules change: entries whose keys now coincide merge
into the oldest one, which takes over their referral links, status checks, evidence and disposal
actions (their history). Used by migration 0104; works on a bare connection (no ORM session)."""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from casework.targets.normalize import normalize_url

TARGETS = sa.table("targets", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                   sa.column("key", sa.String), sa.column("url", sa.String),
                   *(sa.column(name, sa.String) for name in
                     ("icp_number", "operator_name", "operator_uscc", "contact", "domain", "registrable_domain")))
LINKS = sa.table("referral_targets", sa.column("id", sa.Integer), sa.column("referral_id", sa.Integer),
                 sa.column("target_id", sa.Integer))
HISTORY = [sa.table(name, sa.column("target_id", sa.Integer))
           for name in ("target_status_checks", "evidence", "disposition_actions")]
FILLED = ("icp_number", "operator_name", "operator_uscc", "contact")


def _new_key(row) -> str:
    try:
        return normalize_url(row.url or row.key)["key"]
    except ValueError:
        return row.key


def rekey_websites(connection: Connection) -> dict[int, int]:
    """Recompute every website key; returns {merged target id: surviving target id}."""
    rows = connection.execute(sa.select(TARGETS).where(TARGETS.c.kind == "website").order_by(TARGETS.c.id)).all()
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[_new_key(row)].append(row)
    merged: dict[int, int] = {}
    for key, group in groups.items():
        survivor, others = group[0], group[1:]
        for other in others:
            _merge(connection, survivor, other)
            merged[other.id] = survivor.id
        if key != survivor.key:
            connection.execute(sa.update(TARGETS).where(TARGETS.c.id == survivor.id).values(key=key))
    return merged


def _merge(connection: Connection, survivor, other) -> None:
    linked = set(connection.scalars(sa.select(LINKS.c.referral_id).where(LINKS.c.target_id == survivor.id)))
    for link in connection.execute(sa.select(LINKS).where(LINKS.c.target_id == other.id)).all():
        if link.referral_id in linked:
            connection.execute(sa.delete(LINKS).where(LINKS.c.id == link.id))
        else:
            connection.execute(sa.update(LINKS).where(LINKS.c.id == link.id).values(target_id=survivor.id))
            linked.add(link.referral_id)
    for table in HISTORY:
        connection.execute(sa.update(table).where(table.c.target_id == other.id).values(target_id=survivor.id))
    missing = {name: getattr(other, name) for name in FILLED if not getattr(survivor, name) and getattr(other, name)}
    connection.execute(sa.delete(TARGETS).where(TARGETS.c.id == other.id))
    if missing:
        connection.execute(sa.update(TARGETS).where(TARGETS.c.id == survivor.id).values(**missing))
