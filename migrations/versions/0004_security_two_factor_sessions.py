"""security: second factor, sessions table, per-source login locks, password history, policy, rate counters

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import casework.db_types


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('password_changed_at', casework.db_types.UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_enrolled_at', casework.db_types.UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
    op.drop_column('users', 'failed_logins')
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'session_token')

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.Column('ended_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)

    op.create_table('password_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_history_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history'))
    )
    op.create_index(op.f('ix_password_history_user_id'), 'password_history', ['user_id'], unique=False)

    op.create_table('login_locks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', casework.db_types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', casework.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_locks_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_locks')),
    sa.UniqueConstraint('user_id', 'source', name=op.f('uq_login_locks_user_id'))
    )
    op.create_index(op.f('ix_login_locks_user_id'), 'login_locks', ['user_id'], unique=False)

    op.create_table('security_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lockout_failures', sa.Integer(), nullable=False),
    sa.Column('lockout_minutes', sa.Integer(), nullable=False),
    sa.Column('password_min_length', sa.Integer(), nullable=False),
    sa.Column('password_min_classes', sa.Integer(), nullable=False),
    sa.Column('password_history', sa.Integer(), nullable=False),
    sa.Column('two_factor_scope', sa.String(length=16), nullable=False),
    sa.Column('updated_at', casework.db_types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_policy'))
    )

    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counters'))
    )


def downgrade() -> None:
    op.drop_table('rate_counters')
    op.drop_table('security_policy')
    op.drop_index(op.f('ix_login_locks_user_id'), table_name='login_locks')
    op.drop_table('login_locks')
    op.drop_index(op.f('ix_password_history_user_id'), table_name='password_history')
    op.drop_table('password_history')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    op.add_column('users', sa.Column('session_token', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('locked_until', casework.db_types.UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.drop_column('users', 'totp_last_step')
    op.drop_column('users', 'totp_enrolled_at')
    op.drop_column('users', 'totp_secret')
    op.drop_column('users', 'password_changed_at')
    op.drop_column('users', 'must_change_password')
