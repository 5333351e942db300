"""Keyed audit chain: events sealed at commit (sequence, hashes and key id set once), key id per event.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from casework.audit.ddl import drop_append_only, install_append_only

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    drop_append_only(connection)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    install_append_only(connection)


def downgrade() -> None:
    connection = op.get_bind()
    drop_append_only(connection)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("key_id")
    install_append_only(connection)
