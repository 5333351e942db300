"""Administrators' overrides of the clock rules declared in workflows/clocks.toml (unit and amount;
clocks started from then on follow them). Used by the security administrator's page and by
``casework workflow set-clock``."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from casework.audit.services import record_event
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.workflow.models import ClockRuleOverride
from casework.workflow.messages import _
from workflows import CLOCK_UNITS, ClockRule, declarations

LARGEST_AMOUNT = {"hours": 24 * 366, "working_days": 366, "calendar_days": 366}


@dataclass(frozen=True)
class RuleRow:
    """A declared rule and its override (None: the declaration holds)."""

    rule: ClockRule
    override: ClockRuleOverride | None

    @property
    def unit(self) -> str:
        return self.override.unit if self.override else self.rule.unit

    @property
    def amount(self) -> int:
        return self.override.amount if self.override else self.rule.amount


def clock_rules() -> list[RuleRow]:
    """Every declared clock rule with its override, in declaration order."""
    overrides = {o.rule: o for o in db.session.scalars(select(ClockRuleOverride))}
    return [RuleRow(rule, overrides.get(name)) for name, rule in declarations().clocks.items()]


def declared_rule(name: str) -> ClockRule:
    rule = declarations().clocks.get(name)
    if rule is None:
        raise ValidationFailed({"rule": _("unknown clock rule %(rule)s", rule=name)},
                               _("unknown clock rule %(rule)s", rule=name))
    return rule


def override_clock_rule(name: str, data: dict, actor) -> ClockRuleOverride:
    """Set rule ``name`` to ``data["amount"]`` in ``data["unit"]`` (default: the declared unit)."""
    rule = declared_rule(name)
    unit = data.get("unit") or rule.unit
    amount = data.get("amount")
    errors = {}
    if unit not in CLOCK_UNITS:
        errors["unit"] = _("unknown unit %(unit)s", unit=unit)
    elif isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= LARGEST_AMOUNT[unit]:
        errors["amount"] = _("the amount must be a whole number from 1 to %(n)d", n=LARGEST_AMOUNT[unit])
    if errors:
        raise ValidationFailed(errors, "; ".join(errors.values()))
    override = db.session.scalar(select(ClockRuleOverride).where(ClockRuleOverride.rule == name))
    before = {"unit": override.unit, "amount": override.amount} if override else {"unit": rule.unit,
                                                                                 "amount": rule.amount}
    if override is None:
        override = ClockRuleOverride(rule=name, unit=unit, amount=amount)
        db.session.add(override)
    override.unit, override.amount = unit, amount
    override.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    record_event("clock_rule.override", actor, override, actor_name=None if actor else "cli",
                 payload={"rule": name, "unit": unit, "amount": amount, "before": before})
    return override


def reset_clock_rule(name: str, data: dict, actor) -> None:
    """Remove the override of rule ``name``: the declaration holds again."""
    declared_rule(name)
    override = db.session.scalar(select(ClockRuleOverride).where(ClockRuleOverride.rule == name))
    before = {"unit": override.unit, "amount": override.amount} if override else None
    if override is not None:
        db.session.delete(override)
        db.session.flush()
    record_event("clock_rule.reset", actor, None, actor_name=None if actor else "cli",
                 payload={"rule": name, "before": before})
