"""Desk tokens: a random value per agency, renewed in the same transaction as any change to a
referral or assignment that the agency's desk lists (new, changed or removed; the referral's origin
department and every agency holding it are renewed), so that a kept inbox list
(``casework.inbox.cache``) is never served after a committed change.

Tokens are random, not counters, so a rolled-back transaction can never make an old key current
again. Changes made by bulk SQL bypass this (as they bypass the counters): ``recount_desks`` renews
every token. The session hooks are installed by ``install_token_hooks`` (``init_inbox``).
"""
from __future__ import annotations

from sqlalchemy import String, cast, event, func, inspect, select, union
from sqlalchemy.orm import Session

from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.db_session import before_outermost_commit
from casework.db_upsert import upsert_from_select
from casework.extensions import db
from casework.inbox.models import DeskToken
from casework.referrals.models import Referral

TOUCHED = "casework_desk_touched"


def _collect(session: Session, _context) -> None:
    """Remember which referrals and agencies the flush changed (their desks are renewed at commit)."""
    agencies: set[int] = set()
    referrals: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Referral):
            referrals.add(obj.id)
        elif isinstance(obj, Assignment):
            referrals.add(obj.referral_id)
            history = inspect(obj).attrs.agency_id.history
            agencies.update(a for a in (*history.added, *history.unchanged, *history.deleted) if a is not None)
    if agencies or referrals:
        touched = session.info.setdefault(TOUCHED, (set(), set()))
        touched[0].update(agencies)
        touched[1].update(r for r in referrals if r is not None)


def _renew(session: Session) -> None:
    """Renew the tokens of every desk that lists what this transaction changed."""
    touched = session.info.pop(TOUCHED, None)
    if not touched:
        return
    agencies, referrals = touched
    ids = sorted(referrals)
    renew_tokens(session.connection(), union(
        select(Agency.id.label("agency_id")).where(Agency.id.in_(sorted(agencies))),
        select(Referral.origin_agency_id).where(Referral.id.in_(ids)),
        select(Assignment.agency_id).where(Assignment.referral_id.in_(ids))))


def _forget(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(TOUCHED, None)


def install_token_hooks() -> None:
    """Renew the desk tokens with every transaction that changes referrals or assignments."""
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "after_soft_rollback", _forget)
    before_outermost_commit(_renew)


def _random_token(dialect: str):
    """16 random hexadecimal digits, drawn by the database."""
    if dialect == "postgresql":
        return func.substr(func.replace(cast(func.gen_random_uuid(), String), "-", ""), 1, 16)
    return func.lower(func.hex(func.randomblob(8)))


def renew_tokens(connection, agency_ids) -> None:
    """Give each agency of ``agency_ids`` (a SELECT of one column) a new random token, in agency
    order, in one statement."""
    found = agency_ids.subquery()
    agency = found.c[0]
    rows = select(agency, _random_token(connection.dialect.name)).where(agency.is_not(None)).order_by(agency)
    upsert_from_select(connection, DeskToken.__table__, ["agency_id", "token"], rows, ["agency_id"],
                       lambda excluded: {"token": excluded.token})


def renew_all_tokens() -> None:
    renew_tokens(db.session.connection(), select(Agency.id))
