"""SQL statements per transition (issue 13 item 4): a step on an assignment loads what it needs up
front, reads its clocks once, asks "have all assignments ended?" with one aggregate query, renews
the desk tokens and counters in one statement each and seals the audit chain at commit.

Counted from loading the assignment to the commit (BEGIN, SAVEPOINT and COMMIT left out), with the
actor loaded already, as Flask-Login has loaded it for the request. The audit seal is three
statements on SQLite (lock the head, seal the events, advance the head) and two on PostgreSQL.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import raiseload

from casework.accounts.models import User
from casework.assignments.models import Assignment
from casework.extensions import db
from casework.unit_of_work import unit_of_work
from casework.workflow.engine import fire
from tests.factories import act, assignment_of, routed_referral
from tests.sql_count import counted_statements

OFFICER = "cac-44.case_officer"


def table_of(statement: str) -> str:
    """The table a statement writes (the last one, for PostgreSQL's seal), or the first table it reads."""
    written = re.findall(r"(?<!DO )(?:INSERT INTO|UPDATE)\s+(\w+)", statement)
    return written[-1] if written else re.search(r"\bFROM\s+(\w+)", statement).group(1)


def _seal_statements() -> int:
    return 2 if db.engine.dialect.name == "postgresql" else 3


def counted_step(assignment_id: int, trigger: str, username: str, *, lazy_loads: bool = True, **data) -> list[str]:
    """Fire ``trigger`` as a request does (load, fire, commit) on a session that knows only the actor."""
    db.session.expunge_all()
    actor = db.session.scalar(select(User).where(User.username == username))
    actor.roles  # noqa: B018  (loaded with the user, as the login loader does)
    with counted_statements() as statements:
        with unit_of_work():
            query = select(Assignment).where(Assignment.id == assignment_id)
            if not lazy_loads:
                query = query.options(raiseload(Assignment.referral), raiseload(Assignment.notes),
                                      raiseload(Assignment.dispositions), raiseload(Assignment.owner))
            fire(db.session.scalar(query), trigger, data, actor)
    return statements


@pytest.fixture
def received(db_session):
    referral = routed_referral("44", "cac-44")
    assignment = assignment_of(referral, "cac-44")
    act(assignment, "receive", OFFICER)
    return assignment.id


def test_a_note_on_an_assignment_runs_at_most_eight_statements(received):
    counted_step(received, "accept", OFFICER, reason="受理")
    statements = counted_step(received, "add_note", OFFICER, body="已调取备案资料。")
    # assignment, note, audit event, the seal; no clock, token, counter or referral read
    assert len(statements) == 3 + _seal_statements(), statements
    assert len(statements) <= 8


def test_a_note_needs_no_lazy_load(received):
    counted_step(received, "accept", OFFICER, reason="受理")
    counted_step(received, "add_note", OFFICER, lazy_loads=False, body="已调取备案资料。")


def test_accepting_reads_each_thing_once_and_renews_desks_in_one_statement_each(received):
    statements = counted_step(received, "accept", OFFICER, reason="受理")
    tables = [table_of(s) for s in statements]
    assert tables.count("desk_tokens") == 1 and tables.count("desk_counts") == 1, " ".join(tables)
    assert tables.count("clocks") == 3, tables  # read once, one stopped, one started
    assert tables.count("assignments") == 3, tables
    assert tables.count("audit_chain_head") == 2, tables  # locked, then advanced  # load, one UPDATE (state and due date), the tally
    # assignment, referral, clocks (with extensions), rule overrides, 2 clock writes, assignment,
    # audit event, "all ended?" tally, desk tokens, desk counters, then the seal
    assert len(statements) == 11 + _seal_statements(), statements
