"""``casework check-targets``: run the takedown checkers with bounded concurrency."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import or_, select

from casework.cli_support import check_database
from casework.db_types import utcnow
from casework.extensions import db
from casework.targets.checkers import CHECKERS, CheckOptions, checker_for, target_snapshot
from casework.targets.models import ReferralTarget, Target
from casework.targets.status import record_status_check
from casework.unit_of_work import unit_of_work

MAX_CONCURRENCY = 32
BATCH = 200


def due_targets(stale_after: timedelta, referral_id: int | None = None) -> list:
    """Targets with a checker whose last check is older than ``stale_after`` (or never checked)."""
    query = select(Target).where(Target.kind.in_(list(CHECKERS)), or_(
        Target.status_checked_at.is_(None), Target.status_checked_at < utcnow() - stale_after))
    if referral_id is not None:
        query = query.where(Target.id.in_(
            select(ReferralTarget.target_id).where(ReferralTarget.referral_id == referral_id)))
    return list(db.session.scalars(query.order_by(Target.id)))


def check_targets(options, stale_after: timedelta, concurrency: int, referral_id: int | None = None) -> dict:
    """Check every due target; record results batch by batch. Returns counts per status.

    A target checked meanwhile by an overlapping run (or by hand) is skipped, not recorded twice.
    """
    counts: dict[str, int] = {}
    cutoff = utcnow() - stale_after
    snapshots = [target_snapshot(t) for t in due_targets(stale_after, referral_id)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for start in range(0, len(snapshots), BATCH):
            batch = snapshots[start:start + BATCH]
            results = list(pool.map(lambda s: checker_for(s["kind"])(s, options), batch))
            with unit_of_work():
                for snapshot, result in zip(batch, results):
                    target = db.session.get(Target, snapshot["id"], with_for_update=True)
                    if target.status_checked_at is not None and target.status_checked_at >= cutoff:
                        counts["skipped"] = counts.get("skipped", 0) + 1
                        continue
                    record_status_check(target, result)
                    counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


@click.command("check-targets")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, MAX_CONCURRENCY))
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds per connection.")
@click.option("--stale-minutes", default=60, show_default=True, type=click.IntRange(0),
              help="Skip targets checked more recently than this (re-runs are idempotent).")
@click.option("--referral", "referral_id", type=int, default=None, help="Only this referral's targets.")
@with_appcontext
def check_targets_command(concurrency: int, timeout: float, stale_minutes: int, referral_id: int | None) -> None:
    """Check whether targets are still online and record each result in their history."""
    app = current_app._get_current_object()
    check_database(app)
    options = CheckOptions(timeout=timeout, deadline=timeout * 3,
                           allow_private=bool(app.config.get("TARGET_CHECK_ALLOW_PRIVATE")))
    counts = check_targets(options, timedelta(minutes=stale_minutes), concurrency, referral_id)
    total = sum(n for status, n in counts.items() if status != "skipped")
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing due"
    click.echo(f"checked {total} targets: {summary}")
