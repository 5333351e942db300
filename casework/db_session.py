"""The application's session class: work that runs once, just before the outermost commit.

Rows that many transactions update (the desk counters and tokens) are written there, so each
transaction holds their locks only for its commit, not while it renders a notice. Savepoint
commits (``begin_nested``) do not run the hooks; ``Session.commit`` always commits the outermost
transaction.
"""
from __future__ import annotations

from typing import Callable

from flask_sqlalchemy.session import Session

_HOOKS: list[Callable[[Session], None]] = []


def before_outermost_commit(hook: Callable[[Session], None]) -> Callable[[Session], None]:
    """Register ``hook(session)``, called after the last flush of every outermost commit."""
    _HOOKS.append(hook)
    return hook


class CaseworkSession(Session):
    def commit(self) -> None:
        if self.in_transaction():
            self.flush()
            for hook in _HOOKS:
                hook(self)
        super().commit()
