"""hardening: login guards, rate counters, captchas, storage quota, bad uploads

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_guard',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('rate_counter',
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start')
    )
    op.create_table('captcha',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('answer_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_captcha_expires_at'), 'captcha', ['expires_at'], unique=False)
    with op.batch_alter_table('candidate') as batch:
        batch.add_column(sa.Column('media_bytes', sa.BigInteger(), server_default='0', nullable=False))
        # The lock-out moved to login_guard (atomic, and alike for unknown names).
        batch.drop_column('failed_logins')
        batch.drop_column('locked_until')
    with op.batch_alter_table('live_challenge') as batch:
        batch.add_column(sa.Column('bad_uploads', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('live_challenge') as batch:
        batch.drop_column('bad_uploads')
    with op.batch_alter_table('candidate') as batch:
        batch.drop_column('media_bytes')
        batch.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
    op.drop_index(op.f('ix_captcha_expires_at'), table_name='captcha')
    op.drop_table('captcha')
    op.drop_table('rate_counter')
    op.drop_table('login_guard')
