"""standard photos

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:27:52.320071
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('standard_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('measurements', sa.JSON(), nullable=False),
    sa.Column('face_distance', sa.Double(), nullable=True),
    sa.Column('face_verdict', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('standard_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_photo_candidate_id'), ['candidate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('standard_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_photo_candidate_id'))

    op.drop_table('standard_photo')
