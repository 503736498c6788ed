"""live check

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:03:37.003009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('live_challenge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('digits', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('live_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_challenge_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('live_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('video_key', sa.String(length=128), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('measurements', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['challenge_id'], ['live_challenge.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('challenge_id')
    )
    with op.batch_alter_table('live_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_attempt_candidate_id'), ['candidate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('live_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_attempt_candidate_id'))

    op.drop_table('live_attempt')
    with op.batch_alter_table('live_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_challenge_candidate_id'))

    op.drop_table('live_challenge')
