"""``casework desk recount``: rebuild or check the inbox's open-work counters."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from casework.cli_support import check_database, fail
from casework.inbox.counts import count_mismatches, recount_desks
from casework.unit_of_work import unit_of_work


@click.group("desk", help="The inbox's counters of open work per agency and state.")
def desk_group() -> None:
    pass


@desk_group.command("recount")
@click.option("--check", is_flag=True, help="Only compare the counters with the live counts; exit 1 if they differ.")
@with_appcontext
def desk_recount(check: bool) -> None:
    """Rebuild the counters from the referrals and assignments (after bulk SQL), or check them."""
    check_database(current_app._get_current_object())
    if check:
        mismatches = count_mismatches()
        for (agency_id, subject, state), (stored, live) in sorted(mismatches.items()):
            click.echo(f"agency {agency_id} {subject} {state}: counter {stored}, live {live}", err=True)
        if mismatches:
            fail(f"{len(mismatches)} desk counters differ from the live counts: run 'casework desk recount'")
        click.echo("desk counters match the live counts")
        return
    with unit_of_work():
        rows = recount_desks()
    click.echo(f"desk counters rebuilt: {rows} rows")
