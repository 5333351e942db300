"""notifications, mail, job runs, owners, comments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:47:01.795856
"""
from alembic import op
import sqlalchemy as sa
import casework.db_types


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('last_started_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.Column('last_finished_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.Column('last_result', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs'))
    )
    op.create_table('mail_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.Column('updated_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_settings_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_mail_settings'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('subject_type', sa.String(length=16), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=64), nullable=True),
    sa.Column('agency_kind', sa.String(length=20), nullable=True),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=80), nullable=True),
    sa.Column('created_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.Column('read_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_notifications_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('recipient_id', 'dedupe_key', name=op.f('uq_notifications_recipient_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_recipient_unread', ['recipient_id', 'read_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_referral_id'), ['referral_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('created_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_comments_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_comments_referral_id_referrals')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['comments.id'], name=op.f('fk_comments_supersedes_id_comments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_referral_id'), ['referral_id'], unique=False)

    op.create_table('mail_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', casework.db_types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('sent_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.Column('created_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_mail_deliveries_notification_id_notifications')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_mail_deliveries_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_deliveries')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_mail_deliveries_notification_id'))
    )
    with op.batch_alter_table('mail_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_mail_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_deliveries_recipient_id'), ['recipient_id'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_assignments_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_assignments_owner_id_users'), 'users', ['owner_id'], ['id'])

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_owner_id_users'), 'users', ['owner_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_owner_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referrals_owner_id'))
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assignments_owner_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_assignments_owner_id'))
        batch_op.drop_column('owner_id')

    with op.batch_alter_table('mail_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_deliveries_recipient_id'))
        batch_op.drop_index('ix_mail_deliveries_due')

    op.drop_table('mail_deliveries')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_referral_id'))

    op.drop_table('comments')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_referral_id'))
        batch_op.drop_index('ix_notifications_recipient_unread')

    op.drop_table('notifications')
    op.drop_table('mail_settings')
    op.drop_table('job_runs')
