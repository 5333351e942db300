"""Commands: ``casework sweep`` and ``casework workflow diagram|fire|triggers|set-clock``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from casework.accounts.models import User
from casework.assignments.models import Assignment
from casework.cli_support import check_database, fail
from casework.errors import DomainError, ValidationFailed
from casework.extensions import db
from casework.referrals.models import Referral
from casework.unit_of_work import unit_of_work
from casework.workflow.diagrams import mermaid, svg
from casework.workflow.engine import available_triggers, fire
from casework.workflow.models import ClockRuleOverride
from casework.workflow.rule_overrides import override_clock_rule, reset_clock_rule
from casework.workflow.sweep import sweep
from workflows import CLOCK_UNITS, declarations

SUBJECTS = {"referral": Referral, "assignment": Assignment}


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Mark overdue clocks, queue reminders (催办), close lapsed windows. Idempotent."""
    check_database(current_app._get_current_object())
    with unit_of_work():
        report = sweep()
    click.echo(f"{report.overdue} clocks fell overdue, {report.reminders} reminders queued, "
               f"{report.expired} expired windows closed")


@click.group("workflow", help="Lifecycles declared in workflows/*.toml.")
def workflow_group() -> None:
    pass


@workflow_group.command("diagram")
@click.argument("lifecycle")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True)
@click.option("--current", default=None, help="State to highlight.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def diagram_command(lifecycle: str, fmt: str, current: str | None, lang: str) -> None:
    """Print the diagram of LIFECYCLE (referral, assignment.police, ...)."""
    found = declarations().lifecycles.get(lifecycle)
    if found is None:
        fail(f"unknown lifecycle {lifecycle!r}; known: {', '.join(sorted(declarations().lifecycles))}")
    if current is not None and current not in found.states:
        fail(f"{lifecycle} has no state {current!r}")
    click.echo((mermaid if fmt == "mermaid" else svg)(found, current, lang), nl=False)


def _load(subject: str, ident: int, username: str):
    actor = db.session.scalar(select(User).where(User.username == username))
    if actor is None:
        fail(f"no user {username!r}")
    obj = db.session.get(SUBJECTS[subject], ident)
    if obj is None:
        fail(f"no {subject} {ident}")
    return obj, actor


@workflow_group.command("triggers")
@click.argument("subject", type=click.Choice(sorted(SUBJECTS)))
@click.argument("ident", type=int)
@click.option("--as", "username", required=True, help="Username acting.")
@with_appcontext
def triggers_command(subject: str, ident: int, username: str) -> None:
    """List what USERNAME may fire on the object now."""
    check_database(current_app._get_current_object())
    obj, actor = _load(subject, ident, username)
    click.echo(f"{subject} {ident} is {obj.state} (version {obj.version})")
    for info in available_triggers(obj, actor):
        fields = ", ".join(f"{f.name}:{f.type}{'*' if f.required else ''}" for f in info.fields)
        click.echo(f"  {info.name}  {info.label}  [{fields}]")


@workflow_group.command("fire")
@click.argument("subject", type=click.Choice(sorted(SUBJECTS)))
@click.argument("ident", type=int)
@click.argument("trigger")
@click.option("--as", "username", required=True, help="Username acting.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="Form data; repeat a key for several values (agencies=3 --set reason_3=...).")
@click.option("--version", "expected_version", type=int, default=None, help="Refuse if the object changed.")
@with_appcontext
def fire_command(subject, ident, trigger, username, pairs, expected_version) -> None:
    """Fire TRIGGER on the referral or assignment IDENT as a user, like the UI would."""
    check_database(current_app._get_current_object())
    data = MultiDict()
    for pair in pairs:
        key, sep, val = pair.partition("=")
        if not sep:
            fail(f"--set needs KEY=VALUE, got {pair!r}")
        data.add(key, val)
    try:
        with unit_of_work():
            obj, actor = _load(subject, ident, username)
            fire(obj, trigger, data, actor, expected_version=expected_version)
            state, version = obj.state, obj.version
    except ValidationFailed as error:
        fail("invalid input: " + "; ".join(f"{k}: {v}" for k, v in dict(error.errors).items()))
    except DomainError as error:
        fail(error.message)
    click.echo(f"{subject} {ident}: {trigger} -> {state} (version {version})")


@workflow_group.command("set-clock")
@click.argument("rule")
@click.argument("amount", type=int)
@click.option("--unit", type=click.Choice(sorted(CLOCK_UNITS)), default=None, help="Default: the declared unit.")
@click.option("--reset", is_flag=True, help="Remove the override and use the declared rule.")
@with_appcontext
def set_clock_command(rule: str, amount: int, unit: str | None, reset: bool) -> None:
    """Override a clock rule in the database (applies to clocks started from now on)."""
    check_database(current_app._get_current_object())
    declared = declarations().clocks.get(rule)
    if declared is None:
        fail(f"unknown clock rule {rule!r}; known: {', '.join(sorted(declarations().clocks))}")
    try:
        with unit_of_work():
            if reset:
                reset_clock_rule(rule, {}, None)
            else:
                override_clock_rule(rule, {"unit": unit, "amount": amount}, None)
    except ValidationFailed as error:
        fail(error.message)
    click.echo(f"clock rule {rule}: " + ("declared rule restored" if reset else f"{amount} {unit or declared.unit}"))
