"""URL converters: an ``<int:...>`` id beyond what the database stores matches no route (404)."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from casework.db_types import LARGEST_ID


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` limited to 0 … ``LARGEST_ID``."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = LARGEST_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
