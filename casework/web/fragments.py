"""A bounded, thread-safe store of rendered HTML fragments (and the small values they are made
from), one per application and purpose.

The key of a fragment must name everything the fragment shows; entries are never invalidated,
only pushed out by newer ones (least recently used first)."""
from __future__ import annotations

import threading
import time
from typing import Callable

from cachetools import LRUCache
from markupsafe import Markup


class FragmentCache:
    """Rendered fragments under keys that name all they depend on; ``size`` 0 renders every time."""

    def __init__(self, size: int):
        self.size = size
        self._store: LRUCache = LRUCache(maxsize=max(size, 1))
        self._lock = threading.Lock()

    def get_or_render(self, key: tuple, render: Callable[[], str]) -> Markup:
        return self.get_or_compute(key, lambda: Markup(render()))

    def get_or_compute(self, key: tuple, compute: Callable[[], object]):
        """The value kept under ``key``, computed (and kept) when missing; never None."""
        if not self.size:
            return compute()
        with self._lock:
            found = self._store.get(key)
        if found is not None:
            return found
        value = compute()
        with self._lock:
            self._store[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._store.clear()


def current_minute() -> int:
    """The minute now, for keys of fragments that show the clock's effects (due soon, tokens)."""
    return int(time.time() // 60)
