"""verification jobs: durable records behind the queue, the per-candidate in-flight count,
and the workers' readiness

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('candidate') as batch:
        batch.add_column(
            sa.Column('jobs_in_flight', sa.Integer(), server_default='0', nullable=False)
        )
    op.create_table(
        'verification_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('enqueued_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_verification_job_candidate_id', 'verification_job', ['candidate_id'], unique=False
    )
    op.create_index(
        'ix_verification_job_status_id', 'verification_job', ['status', 'id'], unique=False
    )
    op.create_table(
        'verification_worker',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('ready_at', sa.DateTime(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_index(
        'ix_verification_worker_seen_at', 'verification_worker', ['seen_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_verification_worker_seen_at', table_name='verification_worker')
    op.drop_table('verification_worker')
    op.drop_index('ix_verification_job_status_id', table_name='verification_job')
    op.drop_index('ix_verification_job_candidate_id', table_name='verification_job')
    op.drop_table('verification_job')
    with op.batch_alter_table('candidate') as batch:
        batch.drop_column('jobs_in_flight')
