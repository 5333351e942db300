"""The security administrator's policy: lockout, password rules, who must use a second factor."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from casework.accounts.models import SecurityPolicy, User
from casework.accounts.passwords import MIN_CLASSES, MIN_LENGTH
from casework.accounts.roles import ADMIN_ROLES, Role
from casework.audit.services import record_event
from casework.db_types import utcnow
from casework.errors import ValidationFailed
from casework.extensions import db

POLICY_ID = 1
TWO_FACTOR_SCOPES = ("privileged", "everyone")
# Field: (smallest, largest) the security administrator may set.
BOUNDS = {
    "lockout_failures": (3, 10),
    "lockout_minutes": (5, 1440),
    "password_min_length": (8, 64),
    "password_min_classes": (2, 4),
    "password_history": (0, 24),
}
PRIVILEGED_ROLES = frozenset(r.value for r in ADMIN_ROLES | {Role.APPROVER})


def current_policy() -> SecurityPolicy:
    """The stored policy, or the defaults (unsaved) when none has been stored; the lockout defaults
    are the configuration's ``LOGIN_MAX_FAILURES`` and ``LOGIN_LOCK_MINUTES``."""
    policy = db.session.scalar(select(SecurityPolicy).where(SecurityPolicy.id == POLICY_ID))
    if policy is not None:
        return policy
    return SecurityPolicy(id=POLICY_ID, lockout_failures=current_app.config.get("LOGIN_MAX_FAILURES", 5),
                          lockout_minutes=current_app.config.get("LOGIN_LOCK_MINUTES", 15),
                          password_min_length=MIN_LENGTH, password_min_classes=MIN_CLASSES, password_history=5,
                          two_factor_scope="privileged")


def policy_values(policy: SecurityPolicy) -> dict:
    return {field: getattr(policy, field) for field in (*BOUNDS, "two_factor_scope")}


def update_policy(data: dict, actor: User) -> SecurityPolicy:
    """Store new policy values (each within its bounds); audited with the values before and after."""
    errors = {}
    values = {}
    for field, (low, high) in BOUNDS.items():
        raw = str(data.get(field, "")).strip()
        if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
            errors[field] = f"a whole number from {low} to {high}"
        else:
            values[field] = int(raw)
    scope = data.get("two_factor_scope")
    if scope not in TWO_FACTOR_SCOPES:
        errors["two_factor_scope"] = f"one of {', '.join(TWO_FACTOR_SCOPES)}"
    if errors:
        raise ValidationFailed(errors)
    values["two_factor_scope"] = scope
    policy = current_policy()
    before = policy_values(policy)
    for field, value in values.items():
        setattr(policy, field, value)
    policy.updated_at = utcnow()
    db.session.add(policy)
    db.session.flush()
    record_event("security.policy", actor, payload={"before": before, "after": values})
    return policy


def two_factor_required(user: User, policy: SecurityPolicy | None = None) -> bool:
    """Administrators and approvers always; everyone when the policy says so.

    ``TWO_FACTOR_ENFORCED`` off (the older test suite's fixtures only) asks no one to enrol.
    """
    if not current_app.config.get("TWO_FACTOR_ENFORCED", True):
        return False
    if user.has_role(*PRIVILEGED_ROLES):
        return True
    return (policy or current_policy()).two_factor_scope == "everyone"
