"""Desk tokens: a random value per agency, renewed in the same transaction as any change to a
referral or assignment that the agency's desk lists (new, changed or removed; the referral's origin
department and every agency holding it are renewed), so that a kept inbox list
(``casework.inbox.cache``) is never served after a committed change.

Tokens are random, not counters, so a rolled-back transaction can never make an old key current
again. Changes made by bulk SQL bypass this (as they bypass the counters): ``recount_desks`` renews
every token. The session hooks are installed by ``install_token_hooks`` (``init_inbox``).
"""
from __future__ import annotations

import secrets

from sqlalchemy import event, inspect, select, union
from sqlalchemy.orm import Session

from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.db_session import before_outermost_commit
from casework.db_upsert import upsert
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
    if referrals:
        ids = list(referrals)
        agencies |= set(session.scalars(union(
            select(Referral.origin_agency_id).where(Referral.id.in_(ids)),
            select(Assignment.agency_id).where(Assignment.referral_id.in_(ids)))))
    renew_tokens(session.connection(), agencies)


def _forget(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(TOUCHED, None)


def install_token_hooks() -> None:
    """Renew the desk tokens with every transaction that changes referrals or assignments."""
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "after_soft_rollback", _forget)
    before_outermost_commit(_renew)


def renew_tokens(connection, agency_ids) -> None:
    """Give each agency a new random token, in agency order (one row each)."""
    for agency_id in sorted(a for a in agency_ids if a is not None):
        upsert(connection, DeskToken.__table__, {"agency_id": agency_id, "token": secrets.token_hex(8)},
               ["agency_id"], lambda excluded: {"token": excluded.token})


def renew_all_tokens() -> None:
    renew_tokens(db.session.connection(), db.session.scalars(select(Agency.id)))
