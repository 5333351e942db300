"""Roles. Separation of duties: the three admin roles never combine with each other."""
import enum

from flask import has_request_context
from flask_babel import gettext


def _l(text: str) -> str:
    """Marks a role name for the message catalogue; ``role_label`` translates it."""
    return text



class Role(str, enum.Enum):
    INTAKE_OFFICER = "intake_officer"
    ASSESSOR = "assessor"
    CASE_OFFICER = "case_officer"
    APPROVER = "approver"
    SYSTEM_ADMIN = "system_admin"
    SECURITY_ADMIN = "security_admin"
    AUDIT_ADMIN = "audit_admin"


ROLE_LABELS = {
    "intake_officer": _l("intake officer"),
    "assessor": _l("assessor"),
    "case_officer": _l("case officer"),
    "approver": _l("approver"),
    "system_admin": _l("system administrator"),
    "security_admin": _l("security administrator"),
    "audit_admin": _l("audit administrator"),
}


def role_label(role: str) -> str:
    """A role as users call it: in the user's language in a request, in English elsewhere (CLI)."""
    name = ROLE_LABELS.get(role, role)
    return gettext(name) if has_request_context() else name


ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
CASE_ROLES = frozenset({Role.INTAKE_OFFICER, Role.ASSESSOR, Role.CASE_OFFICER, Role.APPROVER})


def check_role_combination(roles: set[str]) -> str | None:
    """Return why a role set is not allowed, or None when it is."""
    admin = {r for r in roles if Role(r) in ADMIN_ROLES}
    if len(admin) > 1:
        return "separation of duties: system, security and audit admin must be different people"
    if admin and len(roles) > 1:
        return "an administrator account cannot also work cases"
    return None
