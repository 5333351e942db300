"""agency seal images and access-denial windows (administrators' pages)

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import casework.db_types


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", casework.db_types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_agency_seals_agency_id_agencies")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_agency_seals_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_seals")),
        sa.UniqueConstraint("agency_id", name=op.f("uq_agency_seals_agency_id")),
    )
    op.create_table(
        "access_denial_windows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unreported", sa.Integer(), nullable=False),
        sa.Column("sample_paths", sa.JSON(), nullable=False),
        sa.Column("first_unreported_at", casework.db_types.UTCDateTime(), nullable=True),
        sa.Column("last_reported_at", casework.db_types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_denial_windows_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_access_denial_windows")),
    )


def downgrade() -> None:
    op.drop_table("access_denial_windows")
    op.drop_table("agency_seals")
