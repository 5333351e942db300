"""Open work per agency and state, kept in step with every change (the inbox's tab counts).

``desk_counts`` holds one row per (agency, subject, state): how many referrals an education
department originated, or how many assignments an agency holds, are in that state now. The
counts change in the same transaction as the referral or assignment they count: every flush adds
up the state (and agency) changes of the flushed referrals and assignments under the transaction
(or savepoint) that made them, a rolled-back savepoint drops its share, and the outermost commit
writes the sum, in key order, just before it commits (``casework.db_session``), so concurrent
transactions hold the counter rows only for their commits and never wait for each other in a
cycle.

Rows written by bulk SQL (the benchmark's seed) bypass the ORM: ``recount_desks`` rebuilds the
table from the referrals and assignments, and ``casework desk recount --check`` compares them.
The session hooks are installed by ``install_counter_hooks`` (``init_inbox``).
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.orm import Session

from casework.assignments.models import Assignment
from casework.db_session import before_outermost_commit
from casework.db_upsert import upsert
from casework.extensions import db
from casework.inbox.models import DeskCount
from casework.inbox.tokens import renew_all_tokens
from casework.referrals.models import Referral

Key = tuple[int, str, str]
PENDING = "casework_desk_deltas"

# Which column names the owning agency of each counted subject.
COUNTED = {Referral: ("referral", "origin_agency_id"), Assignment: ("assignment", "agency_id")}


def _values(obj, name: str) -> tuple[object, object]:
    """The attribute's value before and after the flush."""
    history = inspect(obj).attrs[name].history
    before = history.deleted[0] if history.deleted else (history.unchanged[0] if history.unchanged else None)
    after = history.added[0] if history.added else (history.unchanged[0] if history.unchanged else None)
    return before, after


def flush_deltas(session: Session) -> Counter[Key]:
    """How the flushed referrals and assignments move the counts (inserted, changed, deleted)."""
    deltas: Counter[Key] = Counter()
    for obj in session.new:
        if type(obj) in COUNTED:
            subject, owner = COUNTED[type(obj)]
            deltas[(getattr(obj, owner), subject, obj.state)] += 1
    for obj in session.dirty:
        if type(obj) in COUNTED and session.is_modified(obj, include_collections=False):
            subject, owner = COUNTED[type(obj)]
            old_owner, new_owner = _values(obj, owner)
            old_state, new_state = _values(obj, "state")
            if (old_owner, old_state) != (new_owner, new_state):
                deltas[(old_owner, subject, old_state)] -= 1
                deltas[(new_owner, subject, new_state)] += 1
    for obj in session.deleted:
        if type(obj) in COUNTED:
            subject, owner = COUNTED[type(obj)]
            old_owner, _ = _values(obj, owner)
            old_state, _ = _values(obj, "state")
            deltas[(old_owner, subject, old_state)] -= 1
    return Counter({key: delta for key, delta in deltas.items() if delta})


def _collect(session: Session, _context) -> None:
    """Keep the flush's changes with the (innermost) transaction that made them."""
    deltas = flush_deltas(session)
    if deltas:
        transaction = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault(PENDING, {}).setdefault(transaction, Counter()).update(deltas)


def _forget(session: Session, previous_transaction) -> None:
    """A rolled-back savepoint drops its changes and those of the savepoints released into it;
    the outermost rollback drops them all."""
    pending = session.info.get(PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        pending.clear()
        return
    for transaction in [t for t in pending if _within(t, previous_transaction)]:
        del pending[transaction]


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _write(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if pending:
        total: Counter[Key] = Counter()
        for deltas in pending.values():
            total.update(deltas)  # update adds negative counts too (``+`` would drop them)
        apply_deltas(session.connection(), total)


def install_counter_hooks() -> None:
    """Keep the counters in step with every transaction that changes referrals or assignments."""
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "after_soft_rollback", _forget)
    before_outermost_commit(_write)


def apply_deltas(connection, deltas: Counter[Key]) -> None:
    """Add ``deltas`` to the counter rows in key order (one upsert of every changed row).

    State and agency columns of the counted models keep their previous value on change
    (``active_history``), so a key is complete unless the object never had one."""
    table = DeskCount.__table__
    rows = [{"agency_id": agency_id, "subject": subject, "state": state, "count": delta}
            for (agency_id, subject, state), delta in sorted((k, d) for k, d in deltas.items() if d and None not in k)]
    upsert(connection, table, rows, ["agency_id", "subject", "state"],
           lambda excluded: {"count": table.c.count + excluded.count})


def live_counts() -> dict[Key, int]:
    """The counts as the referrals and assignments stand now (what the counters must say)."""
    counts: dict[Key, int] = {}
    for model, (subject, owner) in COUNTED.items():
        column = getattr(model, owner)
        for agency_id, state, count in db.session.execute(
                select(column, model.state, func.count()).group_by(column, model.state)):
            counts[(agency_id, subject, state)] = count
    return counts


def stored_counts() -> dict[Key, int]:
    rows = db.session.execute(select(DeskCount.agency_id, DeskCount.subject, DeskCount.state, DeskCount.count))
    return {(a, s, st): c for a, s, st, c in rows if c}


def recount_desks() -> int:
    """Rebuild every counter from the referrals and assignments (and renew every desk's cached
    list); returns the counter rows written."""
    renew_all_tokens()
    counts = live_counts()
    db.session.execute(delete(DeskCount))
    if counts:
        db.session.execute(DeskCount.__table__.insert(), [
            {"agency_id": a, "subject": s, "state": st, "count": c} for (a, s, st), c in counts.items()])
    return len(counts)


def count_mismatches() -> dict[Key, tuple[int, int]]:
    """Counters that differ from the live counts: key -> (stored, live)."""
    stored, live = stored_counts(), live_counts()
    return {key: (stored.get(key, 0), live.get(key, 0))
            for key in stored.keys() | live.keys() if stored.get(key, 0) != live.get(key, 0)}
