"""The inbox's open-work counters follow every change in its own transaction, savepoints included."""
from __future__ import annotations

from sqlalchemy import insert, select

from casework.extensions import db
from casework.inbox.counts import count_mismatches, recount_desks
from casework.inbox.models import DeskCount
from casework.referrals.models import Referral
from tests.factories import act, assignment_of, make_referral, routed_referral


def counter(agency_id: int, subject: str, state: str) -> int:
    return db.session.scalar(select(DeskCount.count).where(
        DeskCount.agency_id == agency_id, DeskCount.subject == subject, DeskCount.state == state)) or 0


def test_counters_follow_a_referral_through_the_workflow(db_session):
    referral = routed_referral("44", "psb-44", "cac-44")
    police = assignment_of(referral, "psb-44")
    assert count_mismatches() == {}
    before = counter(police.agency_id, "assignment", "received")
    act(police, "receive", "psb-44.case_officer")
    assert counter(police.agency_id, "assignment", "received") == before + 1
    assert count_mismatches() == {}


def submitted_and_flushed(intake) -> tuple[Referral, int]:
    """A committed draft moved to "submitted" and flushed, and the drafts counted before the move."""
    referral = make_referral(intake)
    db.session.commit()
    drafts = counter(referral.origin_agency_id, "referral", "draft")
    referral.state = "submitted"
    db.session.flush()
    return referral, drafts


def test_counters_are_written_at_the_commit_not_at_the_flush(db_session, user):
    """Concurrent transactions then hold the counter rows only for their commits."""
    referral, drafts = submitted_and_flushed(user("edu-44.intake_officer"))
    assert counter(referral.origin_agency_id, "referral", "draft") == drafts
    db.session.commit()
    assert counter(referral.origin_agency_id, "referral", "draft") == drafts - 1


def test_a_rolled_back_change_leaves_the_counters(db_session, user):
    referral, drafts = submitted_and_flushed(user("edu-44.intake_officer"))
    db.session.rollback()
    assert counter(referral.origin_agency_id, "referral", "draft") == drafts
    assert count_mismatches() == {}


def test_a_rolled_back_savepoint_takes_its_changes_with_it(db_session, user):
    first = make_referral(user("edu-44.intake_officer"))
    second = make_referral(user("edu-44.intake_officer"))
    db.session.commit()
    first.state = "submitted"
    db.session.flush()
    savepoint = db.session.begin_nested()
    second.state = "submitted"
    db.session.flush()
    inner = db.session.begin_nested()
    second.title = "changed in a savepoint released into the outer one"
    db.session.flush()
    inner.commit()
    savepoint.rollback()
    db.session.commit()
    assert (first.state, second.state) == ("submitted", "draft")
    assert count_mismatches() == {}


def test_recount_repairs_rows_written_by_bulk_sql(db_session, agency, user):
    origin = agency("edu-44")
    db.session.execute(insert(Referral.__table__), [dict(
        number="XS2026-BULK001", title="批量导入", source="public_tip", summary="", region_code="440000",
        origin_agency_id=origin.id, created_by_id=user("edu-44.intake_officer").id, state="submitted",
        overdue=False, version=1)])
    assert count_mismatches() == {(origin.id, "referral", "submitted"): (
        counter(origin.id, "referral", "submitted"), counter(origin.id, "referral", "submitted") + 1)}
    recount_desks()
    assert count_mismatches() == {}


def test_cli_checks_and_rebuilds(app, db_session, agency, user):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["desk", "recount", "--check"]).exit_code == 0
    db.session.execute(insert(Referral.__table__), [dict(
        number="XS2026-BULK002", title="批量导入", source="public_tip", summary="", region_code="440000",
        origin_agency_id=agency("edu-44").id, created_by_id=user("edu-44.intake_officer").id, state="draft",
        overdue=False, version=1)])
    checked = runner.invoke(args=["desk", "recount", "--check"])
    assert checked.exit_code == 1 and "differ" in checked.output
    rebuilt = runner.invoke(args=["desk", "recount"])
    assert rebuilt.exit_code == 0 and "rebuilt" in rebuilt.output
    assert count_mismatches() == {}



class _DeadlockDetected(Exception):
    sqlstate = "40P01"


class _UndefinedColumn(Exception):
    sqlstate = "42703"


def test_a_transaction_sacrificed_to_a_deadlock_is_a_conflict(db_session):
    """Two transactions changing counter rows in opposite orders: PostgreSQL cancels one (409, reload)."""
    import pytest
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from casework.errors import ConflictError
    from casework.unit_of_work import DatabaseUnavailable, unit_of_work

    with pytest.raises(ConflictError):
        with unit_of_work():
            raise OperationalError("UPDATE desk_counts ...", {}, _DeadlockDetected("deadlock detected"))
    with pytest.raises(DatabaseUnavailable):  # a lost connection: 503, try again (casework/unit_of_work.py)
        with unit_of_work():
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    with pytest.raises(ProgrammingError):  # anything else stays what it is
        with unit_of_work():
            raise ProgrammingError("SELECT x", {}, _UndefinedColumn("column x does not exist"))
