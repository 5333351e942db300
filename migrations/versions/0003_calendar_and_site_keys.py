"""holiday calendar table (seeded from chinese_calendar); website registry keys re-folded

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import casework.db_types
from casework.calendar.store import LIBRARY_SOURCE, library_arrangement, library_years
from casework.db_types import utcnow
from casework.targets.rekey import rekey_websites


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    years = op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('entered_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_calendar_years_entered_by_id_users')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    days = op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['year'], ['calendar_years.year'], name=op.f('fk_calendar_days_year_calendar_years'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_days_year'), ['year'], unique=False)
    seed_calendar(years, days)
    rekey_websites(op.get_bind())


def seed_calendar(years, days) -> None:
    """Every year the installed chinese_calendar knows (later years: `casework calendar seed` or import)."""
    now = utcnow()
    for year in library_years():
        arrangement = library_arrangement(year)
        op.bulk_insert(years, [{"year": year, "source": LIBRARY_SOURCE, "entered_at": now, "entered_by_id": None}])
        op.bulk_insert(days, [{"day": d, "year": year, "kind": kind, "name": name[:40]}
                              for kind, table in (("holiday", arrangement.holidays), ("workday", arrangement.workdays))
                              for d, name in table.items()])


def downgrade() -> None:
    # Merged registry entries stay merged (their links and checks moved to the surviving entry).
    with op.batch_alter_table('calendar_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_days_year'))
    op.drop_table('calendar_days')
    op.drop_table('calendar_years')
