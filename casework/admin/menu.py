"""Where each administrator lands and what their menu lists (administrators work no cases)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class MenuEntry:
    endpoint: str
    label: object
    pages: frozenset[str]  # endpoints the entry stands for (marked current in the menu)


# role -> its menu, the first entry being the landing page.
ADMIN_MENU = {
    "system_admin": (
        MenuEntry("admin.users", _l("Users"), frozenset({"admin.users", "admin.user", "admin.new_user"})),
        MenuEntry("admin.agencies", _l("Agency management"), frozenset({"admin.agencies", "admin.agency", "admin.new_agency",
                                                              "admin.agency_seal"})),
    ),
    "security_admin": (
        MenuEntry("security.index", _l("Security policy"), frozenset({"security.index", "security.save_policy"})),
        MenuEntry("security.users", _l("Accounts and sessions"), frozenset({"security.users", "security.user"})),
        MenuEntry("admin.clock_rules", _l("Clock rules"), frozenset({"admin.clock_rules", "admin.clock_rule"})),
        MenuEntry("calendar.index", _l("Holiday calendar"), frozenset({"calendar.index", "calendar.enter"})),
    ),
    "audit_admin": (
        MenuEntry("audit.index", _l("Audit trail"), frozenset({"audit.index", "admin.verify_audit_chain_now"})),
    ),
}


@dataclass(frozen=True)
class MenuLink:
    url: str
    label: str
    current: bool


def admin_role(user) -> str | None:
    """The user's administrator role, if any (roles.check_role_combination: at most one, alone)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return next((role for role in ADMIN_MENU if user.has_role(role)), None)


def landing_endpoint(user) -> str | None:
    role = admin_role(user)
    return ADMIN_MENU[role][0].endpoint if role else None


def admin_menu(user) -> list[MenuLink]:
    """The administrator's menu; empty for everyone else."""
    role = admin_role(user)
    return [MenuLink(url_for(entry.endpoint), str(entry.label), request.endpoint in entry.pages)
            for entry in ADMIN_MENU.get(role, ())]
