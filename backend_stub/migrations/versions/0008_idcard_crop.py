"""idcard crop: the straightened card the reader read from, shown back to the candidate

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('idcard_submission') as batch:
        batch.add_column(sa.Column('crop_key', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('idcard_submission') as batch:
        batch.drop_column('crop_key')
