"""``casework demo``: migrate, then fill the database with a realistic demo."""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import MetaData, inspect, select

from casework.accounts.models import User, UserRole
from casework.accounts.passwords import hash_password, password_problem
from casework.accounts.policy import PRIVILEGED_ROLES
from casework.agencies.catalogue import demo_agencies
from casework.agencies.models import Agency
from casework.demo_referrals import seed_referrals
from casework.db_types import utcnow
from casework.extensions import db
from casework.migrate import upgrade
from casework.notifications.services import give_demo_addresses
from casework.unit_of_work import unit_of_work

ROLES_BY_KIND = {
    "education": [("intake", "intake_officer"), ("assessor", "assessor"), ("approver", "approver")],
    "other": [("officer", "case_officer"), ("officer2", "case_officer"), ("approver", "approver")],
}
ADMINS = [("sysadmin", "system_admin"), ("secadmin", "security_admin"), ("auditor", "audit_admin")]
ROLE_NAMES = {"intake_officer": "受理员", "assessor": "研判员", "case_officer": "承办人",
              "approver": "审批人", "system_admin": "系统管理员", "security_admin": "安全管理员",
              "audit_admin": "审计管理员"}


class DemoRefused(Exception):
    pass


# The demo's approvers and administrators must log in with a second factor; they are enrolled with
# this fixed, published key (demo only: every real account enrols its own secret).
DEMO_TOTP_SECRET = "CASEWORKDEMOTOTPSECRETKEYFORDEMO"


@dataclass
class DemoCredentials:
    password: str
    users_by_agency: dict[str, list[str]] = field(default_factory=dict)
    totp_secret: str = DEMO_TOTP_SECRET

    def two_factor_lines(self) -> list[str]:
        return [
            "approvers and administrators also need a code from an authenticator app (TOTP) set up with the",
            f"  demo key {self.totp_secret} (or print the current code: "
            f".venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{self.totp_secret}').now())\")",
        ]


def _database_is_empty() -> bool:
    if "agencies" not in inspect(db.engine).get_table_names():
        return True
    return db.session.scalar(select(Agency.id).limit(1)) is None


def wipe_database() -> None:
    """Drop every table (and the audit trigger function) of the configured database."""
    db.session.remove()
    meta = MetaData()
    meta.reflect(bind=db.engine)
    meta.drop_all(bind=db.engine)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS audit_events_append_only() CASCADE")


def demo_password() -> str:
    while True:
        candidate = f"Demo-{secrets.token_urlsafe(6)}-7q"
        if password_problem(candidate) is None:
            return candidate


def build_demo(app: Flask, *, reset: bool = False, password: str | None = None,
               referral_count: int = 36, seed: int = 2026) -> DemoCredentials:
    """Fill an empty database (or, with ``reset``, a wiped one) with the demo."""
    if not _database_is_empty():
        if not reset:
            raise DemoRefused("the database is not empty; use 'casework demo --reset' to wipe it")
        wipe_database()
    upgrade(app)
    password = password or demo_password()
    if problem := password_problem(password):
        raise DemoRefused(f"demo password too weak: {problem}")
    credentials = DemoCredentials(password)
    with unit_of_work():
        agencies = create_agencies()
        users = _create_users(agencies, hash_password(password), credentials)
        give_demo_addresses(users.values())
        seed_referrals(agencies, users, random.Random(seed), referral_count)
    return credentials


def create_agencies() -> dict[str, Agency]:
    """Create the demo's agencies (parents first); returns them by code."""
    agencies: dict[str, Agency] = {}
    for row in demo_agencies():
        parent_code = row.pop("parent")
        agency = Agency(**row, parent=agencies.get(parent_code))
        db.session.add(agency)
        agencies[agency.code] = agency
    db.session.flush()
    return agencies


def _create_users(agencies: dict[str, Agency], password_hash: str,
                  credentials: DemoCredentials) -> dict[str, User]:
    users: dict[str, User] = {}
    for agency in agencies.values():
        roles = ROLES_BY_KIND["education" if agency.kind == "education" else "other"]
        if agency.code == "moe":
            roles = roles + ADMINS
        for suffix, role in roles:
            username = f"{agency.code}-{suffix}"
            user = User(username=username, display_name=f"{agency.name}{ROLE_NAMES[role]}{'二' if suffix.endswith('2') else ''}",
                        agency=agency, password_hash=password_hash, role_rows=[UserRole(role=role)])
            if role in PRIVILEGED_ROLES:
                user.totp_secret = credentials.totp_secret
                user.totp_enrolled_at = utcnow()
            db.session.add(user)
            users[username] = user
            credentials.users_by_agency.setdefault(agency.name, []).append(username)
    db.session.flush()
    return users
