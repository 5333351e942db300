"""What the administrators' pages show, loaded in one place (templates never query)."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from casework.accounts.models import LoginLock, User, UserRole
from casework.accounts.roles import ROLE_LABELS, Role, role_label
from casework.admin.services import SYSTEM_GRANTABLE, agency_kinds, may_manage_account, printable
from casework.agencies.models import Agency, AgencyLevel
from casework.agencies.seals import AgencySeal
from casework.referrals.labels import agency_kind_label, clock_unit_label
from casework.db_types import utcnow
from casework.extensions import db
from casework.web.i18n import format_datetime
from casework.workflow.rule_overrides import clock_rules
from workflows import CLOCK_UNITS

USERS_PER_PAGE = 50
LEVEL_LABELS = {AgencyLevel.NATIONAL.value: _l("National"), AgencyLevel.PROVINCIAL.value: _l("Provincial")}
STATUS_CHOICES = (("", _l("Any")), ("active", _l("Active")), ("inactive", _l("Deactivated")))


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, agency_kind_label(kind)) for kind in agency_kinds()]


def kind_label(kind: str) -> str:
    return agency_kind_label(kind)


def level_label(level: str) -> str:
    return str(LEVEL_LABELS.get(level, level))


def level_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in LEVEL_LABELS.items()]


def agency_choices(blank: str | None = None, exclude: int | None = None) -> list[tuple[int | None, str]]:
    rows = db.session.execute(select(Agency.id, Agency.name, Agency.code).order_by(Agency.kind, Agency.code)).all()
    choices = [(r.id, f"{r.name}（{r.code}）") for r in rows if r.id != exclude]
    return ([(None, blank)] if blank is not None else []) + choices


def grantable_role_choices() -> list[tuple[str, str]]:
    return [(role.value, role_label(role.value)) for role in Role if role.value in SYSTEM_GRANTABLE]


def role_filter_choices() -> list[tuple[str, str]]:
    return [("", str(_l("Any")))] + [(role, role_label(role)) for role in ROLE_LABELS]


@dataclass(frozen=True)
class AgencyRow:
    id: int
    code: str
    name: str
    kind: str
    level: str
    parent: str
    region_code: str
    users: int
    has_seal: bool


def agency_rows() -> list[AgencyRow]:
    parent = aliased(Agency)
    users = (select(User.agency_id, func.count().label("n")).group_by(User.agency_id)).subquery()
    rows = db.session.execute(
        select(Agency, parent.name, users.c.n, AgencySeal.id)
        .outerjoin(parent, Agency.parent_id == parent.id)
        .outerjoin(users, users.c.agency_id == Agency.id)
        .outerjoin(AgencySeal, AgencySeal.agency_id == Agency.id)
        .order_by(Agency.kind, Agency.level, Agency.code)).all()
    return [AgencyRow(a.id, a.code, a.name, agency_kind_label(a.kind),
                      str(LEVEL_LABELS.get(a.level, a.level)), parent_name or "", a.region_code or "",
                      n or 0, seal_id is not None) for a, parent_name, n, seal_id in rows]


@dataclass(frozen=True)
class SealInfo:
    sha256: str
    width: int
    height: int
    byte_size: int
    uploaded: str


def seal_info(agency: Agency) -> SealInfo | None:
    seal = db.session.scalar(select(AgencySeal).where(AgencySeal.agency_id == agency.id))
    if seal is None:
        return None
    return SealInfo(seal.sha256, seal.width, seal.height, seal.byte_size, format_datetime(seal.uploaded_at))


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    agency: str
    roles: str
    active: bool
    locked: bool
    last_login: str
    manageable: bool


@dataclass
class UserList:
    rows: list[UserRow]
    total: int
    page: int
    pages: int

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def user_list(actor: User, filters: dict, page: int) -> UserList:
    """Accounts matching ``filters`` (q: part of the user name or full name; agency id; role; status)."""
    query = select(User).join(Agency, User.agency_id == Agency.id)
    if q := printable(filters.get("q")).strip():
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
    if filters.get("agency"):
        query = query.where(User.agency_id == filters["agency"])
    if filters.get("role") in ROLE_LABELS:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters["role"])))
    if filters.get("status") in ("active", "inactive"):
        query = query.where(User.active.is_(filters["status"] == "active"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + USERS_PER_PAGE - 1) // USERS_PER_PAGE, 1)
    page = min(max(page, 1), pages)
    users = db.session.scalars(query.order_by(Agency.code, User.username)
                               .offset((page - 1) * USERS_PER_PAGE).limit(USERS_PER_PAGE)).all()
    locked = locked_user_ids([u.id for u in users])
    return UserList([user_row(actor, u, u.id in locked) for u in users], total, page, pages)


def locked_user_ids(user_ids: list[int]) -> set[int]:
    """Which of the users are locked out from some address now (locks are per account and address)."""
    if not user_ids:
        return set()
    return set(db.session.scalars(select(LoginLock.user_id).where(LoginLock.user_id.in_(user_ids),
                                                                  LoginLock.locked_until > utcnow())))


def user_row(actor: User, user: User, locked: bool | None = None) -> UserRow:
    if locked is None:
        locked = bool(locked_user_ids([user.id]))
    return UserRow(user.id, user.username, user.display_name, user.agency.name,
                   "、".join(role_label(r) for r in sorted(user.roles)), bool(user.active),
                   locked, format_datetime(user.last_login_at), may_manage_account(actor, user))


@dataclass(frozen=True)
class ClockRuleRow:
    name: str
    label: str
    subject: str
    declared: str
    current: str
    unit: str
    amount: int
    overridden: bool


def clock_rule_rows(language: str) -> list[ClockRuleRow]:
    def amount(unit: str, value: int) -> str:
        return f"{value} {clock_unit_label(unit)}"

    return [ClockRuleRow(row.rule.name, row.rule.label.pick(language), row.rule.subject,
                         amount(row.rule.unit, row.rule.amount), amount(row.unit, row.amount), row.unit, row.amount,
                         row.override is not None) for row in clock_rules()]


def unit_choices() -> list[tuple[str, str]]:
    return [(unit, clock_unit_label(unit)) for unit in sorted(CLOCK_UNITS)]

