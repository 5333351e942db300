"""The rendered inbox list of a desk, shared by the officers of that desk until its work changes.

Every officer of one agency (every assessor of one education department) sees the same inbox
list: the rows and counts depend only on the desk's agencies, the tab, the page and the language.
So the list is rendered once and kept, per worker process, under a key made of

- the desk's agency ids (its scope, ``desk_agency_query``), the tab, the page and the locale;
- each of those agencies' **desk token**, a random value replaced in the same transaction as
  any change to a referral or assignment that the desk lists (new, changed or removed; the
  referral's origin department and every agency holding it are renewed), so a committed change
  is seen by the next request of every officer;
- the current minute, because "due soon", "overdue" and the overdue marks move with the clock
  (they are at most one minute old).

Tokens are random, not counters, so a rolled-back transaction can never make an old key current
again. Changes made by bulk SQL bypass this (as they bypass the counters): ``recount_desks`` renews
every token.
"""
from __future__ import annotations

import functools
import secrets

from flask import Flask, current_app
from sqlalchemy import ForeignKey, String, event, inspect, select, union
from sqlalchemy.orm import Mapped, Session, mapped_column

from casework.agencies.models import Agency
from casework.assignments.models import Assignment
from casework.db_session import before_outermost_commit
from casework.db_upsert import upsert
from casework.extensions import db
from casework.referrals.models import Referral
from casework.referrals.scoping import desk_agency_query
from casework.web.fragments import FragmentCache, current_minute

TOUCHED = "casework_desk_touched"


class DeskToken(db.Model):
    __tablename__ = "desk_tokens"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


# --- renewing the tokens -------------------------------------------------------------------------

@event.listens_for(Session, "after_flush")
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


@before_outermost_commit
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


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(TOUCHED, None)


def renew_tokens(connection, agency_ids) -> None:
    """Give each agency a new random token, in agency order (one row each)."""
    for agency_id in sorted(a for a in agency_ids if a is not None):
        upsert(connection, DeskToken.__table__, {"agency_id": agency_id, "token": secrets.token_hex(8)},
               ["agency_id"], lambda excluded: {"token": excluded.token})


def renew_all_tokens() -> None:
    renew_tokens(db.session.connection(), db.session.scalars(select(Agency.id)))


# --- the cache -----------------------------------------------------------------------------------

def init_desk_cache(app: Flask) -> None:
    app.extensions["casework_desk_cache"] = FragmentCache(int(app.config.get("DESK_CACHE_SIZE", 0)))


def desk_cache() -> FragmentCache:
    return current_app.extensions["casework_desk_cache"]


def desk_key(user, *parts) -> tuple:
    """The cache key of a user's desk list: the desk's agencies and their tokens (one query),
    the minute, and ``parts``."""
    agencies, params = desk_agency_query(user)
    rows = db.session.connection().execute(_with_tokens(agencies), params).all() if agencies is not None else []
    return (tuple(r.id for r in rows), tuple(r.token for r in rows), current_minute(), *parts)


@functools.cache
def _with_tokens(agencies):
    listed = agencies.subquery()
    return (select(listed.c.id, DeskToken.token)
            .outerjoin_from(listed, DeskToken, DeskToken.agency_id == listed.c.id).order_by(listed.c.id))
