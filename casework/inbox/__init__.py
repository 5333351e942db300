"""The inbox: each user's desk of open work (``desk``), its tabs read from the declarations
(``tabs``), the counters and tokens kept in step with every change (``counts``, ``tokens``), the
rendered lists kept per desk (``cache``) and the page (``views``)."""
from __future__ import annotations

from flask import Flask

from casework.inbox.cache import init_desk_cache
from casework.inbox.counts import install_counter_hooks
from casework.inbox.tokens import install_token_hooks

_hooks_installed = False


def init_inbox(app: Flask) -> None:
    """Install the session hooks that keep the counters and tokens (once per process: they hang
    on the SQLAlchemy session class) and the app's desk cache."""
    global _hooks_installed
    if not _hooks_installed:
        install_token_hooks()
        install_counter_hooks()
        _hooks_installed = True
    init_desk_cache(app)
