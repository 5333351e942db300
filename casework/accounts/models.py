"""User accounts: one agency each, roles, argon2 hash, second factor, sessions, lockouts, policy."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.agencies.models import Agency
from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP (RFC 6238): the base32 secret once enrolment is confirmed, and the last time step accepted.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    agency: Mapped[Agency] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    # The token of the session this request belongs to (set at login and by the user loader).
    current_session_token = None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: str) -> bool:
        return any(str(getattr(r, "value", r)) in self.roles for r in roles)

    @property
    def totp_enrolled(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.current_session_token or ''}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))


class UserSession(db.Model):
    """One logged-in browser. The cookie holds the token; the table holds its SHA-256 only."""
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class RecoveryCode(db.Model):
    """A one-time code to log in without the authenticator app (SHA-256 of a random 79-bit code)."""
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordHistory(db.Model):
    """Earlier password hashes of a user, so the last few cannot be reused."""
    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginLock(db.Model):
    """Failed logins for one account from one source address, and the lock they led to.

    A lock shuts out that account from that address only: a stranger cannot lock an officer out.
    """
    __tablename__ = "login_locks"
    __table_args__ = (UniqueConstraint("user_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class SecurityPolicy(db.Model):
    """The security administrator's settings; one row (id 1), defaults when absent."""
    __tablename__ = "security_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    lockout_failures: Mapped[int] = mapped_column(Integer, default=5)
    lockout_minutes: Mapped[int] = mapped_column(Integer, default=15)
    password_min_length: Mapped[int] = mapped_column(Integer, default=10)
    password_min_classes: Mapped[int] = mapped_column(Integer, default=3)
    password_history: Mapped[int] = mapped_column(Integer, default=5)
    # "privileged": administrators and approvers must use a second factor; "everyone": all users.
    two_factor_scope: Mapped[str] = mapped_column(String(16), default="privileged")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateCounter(db.Model):
    """Fixed-window request counters shared by every app process (``casework.web.throttle``)."""
    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer, default=0)
