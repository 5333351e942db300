"""Agencies: education departments and the four disposing kinds, national and provincial."""
from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db_types import UTCDateTime, utcnow
from casework.extensions import db
from workflows import declarations

# The agency kinds declared in workflows/kinds.toml (AgencyKind.EDUCATION.value == "education").
AgencyKind = enum.Enum("AgencyKind", {kind.upper(): kind for kind in declarations().agency_kinds}, type=str)


class AgencyLevel(str, enum.Enum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(160))
    number_prefix: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])

    def is_above(self, other: Agency) -> bool:
        """True when this agency is an ancestor of ``other``."""
        node = other.parent
        while node is not None:
            if node.id == self.id:
                return True
            node = node.parent
        return False

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"
