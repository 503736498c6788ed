"""idcard submissions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:49:39.914191
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idcard_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('front_key', sa.String(length=128), nullable=False),
    sa.Column('back_key', sa.String(length=128), nullable=True),
    sa.Column('portrait_key', sa.String(length=128), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('confirmed_fields', sa.JSON(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('idcard_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idcard_submission_candidate_id'), ['candidate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('idcard_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idcard_submission_candidate_id'))

    op.drop_table('idcard_submission')
