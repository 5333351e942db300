"""What the security administrator's pages read: users with their second factor, sessions and locks."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from casework.accounts.models import LoginLock, User, UserSession
from casework.accounts.lockout import current_locks
from casework.accounts.policy import current_policy, policy_values
from casework.accounts.roles import role_label
from casework.accounts.sessions import open_sessions
from casework.db_types import utcnow
from casework.extensions import db

PAGE_SIZE = 50


@dataclass
class UserRow:
    user: User
    open_sessions: int
    locked: bool

    @property
    def role_names(self) -> str:
        return "、".join(role_label(r) for r in sorted(self.user.roles))


def overview() -> dict:
    return {"policy": policy_values(current_policy()), "locks": current_locks()}


def user_rows(query: str, page: int) -> tuple[list[UserRow], bool]:
    """Users whose name contains ``query``, a page at a time; with open sessions and whether locked."""
    statement = select(User).order_by(User.username)
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(User.username.ilike(pattern, escape="\\")
                                    | User.display_name.ilike(pattern, escape="\\"))
    users = db.session.scalars(statement.offset(page * PAGE_SIZE).limit(PAGE_SIZE + 1)).unique().all()
    ids = [u.id for u in users]
    sessions = dict(db.session.execute(select(UserSession.user_id, func.count())
                                       .where(UserSession.user_id.in_(ids), UserSession.ended_at.is_(None))
                                       .group_by(UserSession.user_id)).all())
    locked = set(db.session.scalars(select(LoginLock.user_id).where(LoginLock.user_id.in_(ids),
                                                                    LoginLock.locked_until > utcnow())))
    rows = [UserRow(u, sessions.get(u.id, 0), u.id in locked) for u in users[:PAGE_SIZE]]
    return rows, len(users) > PAGE_SIZE


def user_detail(user: User) -> dict:
    locks = db.session.scalars(select(LoginLock).where(LoginLock.user_id == user.id)
                               .order_by(LoginLock.updated_at.desc())).all()
    return {"subject": user, "sessions": open_sessions(user), "locks": locks, "now": utcnow()}
