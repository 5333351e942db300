"""The periodic jobs a worker runs, each once per period however many workers run: a worker takes
the job's row in ``job_runs`` with a row lock (SKIP LOCKED: another worker holding it skips), runs the
job unless it already ran in this period, and records when and what it did.

Jobs are registered by their areas at app creation (``register_job``), so that this module imports
none of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casework.db_types import utcnow
from casework.extensions import db
from casework.notifications.models import JobRun
from casework.unit_of_work import unit_of_work

EPOCH = datetime(2000, 1, 1, tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class Job:
    """``run(now)`` does the work in its own unit(s) of work and returns one line saying what it did;
    ``period`` is how often, aligned to the epoch (hours on the hour)."""

    name: str
    period: timedelta
    run: Callable[[datetime], str]


JOBS: dict[str, Job] = {}


def register_job(name: str, period: timedelta, run: Callable[[datetime], str]) -> None:
    JOBS[name] = Job(name, period, run)


def period_start(now: datetime, period: timedelta) -> datetime:
    return now - (now - EPOCH) % period


def ensure_job_rows() -> None:
    """One ``job_runs`` row per registered job (concurrent workers may race: the loser's insert is dropped)."""
    for name in JOBS:
        if db.session.get(JobRun, name) is not None:
            continue
        try:
            with unit_of_work():
                db.session.add(JobRun(name=name))
        except IntegrityError:
            db.session.rollback()


def run_due_jobs(now: datetime | None = None) -> list[tuple[str, str]]:
    """Run every job whose period has begun since it last ran; returns (job, what it did)."""
    now = now or utcnow()
    ensure_job_rows()
    done = []
    for job in list(JOBS.values()):
        if not _claim_period(job, now):
            continue
        result = job.run(now)
        with unit_of_work():
            row = db.session.get(JobRun, job.name)
            row.last_finished_at = utcnow()
            row.last_result = result[:300]
        done.append((job.name, result))
    return done


def _claim_period(job: Job, now: datetime) -> bool:
    """Mark the job started in this period, unless it already was or another worker holds its row.
    A worker that dies while running it leaves the period done; the next period runs it again."""
    with unit_of_work():
        row = db.session.scalar(select(JobRun).where(JobRun.name == job.name).with_for_update(skip_locked=True))
        if row is None or (row.last_started_at and row.last_started_at >= period_start(now, job.period)):
            return False
        row.last_started_at = now
    return True
