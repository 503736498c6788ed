"""courses orders payments

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:57:42.921746
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exam_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('tickets_from', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('payment_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('notify_id', sa.String(length=64), nullable=True),
    sa.Column('out_trade_no', sa.String(length=32), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=True),
    sa.Column('amount_fen', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notify_id')
    )
    with op.batch_alter_table('payment_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_notice_out_trade_no'), ['out_trade_no'], unique=False)

    op.create_table('sandbox_trade',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('out_trade_no', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('scanned_at', sa.DateTime(), nullable=True),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token'),
    sa.UniqueConstraint('transaction_id')
    )
    with op.batch_alter_table('sandbox_trade', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_trade_out_trade_no'), ['out_trade_no'], unique=False)
        batch_op.create_index('ux_sandbox_trade_paid_once', ['out_trade_no'], unique=True, sqlite_where=sa.text("status = 'TRADE_SUCCESS'"), postgresql_where=sa.text("status = 'TRADE_SUCCESS'"))

    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('theory_code', sa.String(length=16), nullable=True),
    sa.Column('exam_date', sa.Date(), nullable=False),
    sa.Column('slot', sa.String(length=2), nullable=False),
    sa.Column('fee_fen', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['exam_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'code')
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_session_id'), ['session_id'], unique=False)

    op.create_table('exam_site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('district', sa.String(length=8), nullable=False),
    sa.Column('county', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=128), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('seats_numbered', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['exam_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'code')
    )
    with op.batch_alter_table('exam_site', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_site_session_id'), ['session_id'], unique=False)

    op.create_table('major',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('school', sa.String(length=64), nullable=False),
    sa.Column('standard', sa.String(length=500), nullable=False),
    sa.Column('special', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['exam_session.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'code')
    )
    with op.batch_alter_table('major', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_major_session_id'), ['session_id'], unique=False)

    op.create_table('passed_course',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('course_code', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('candidate_id', 'course_code')
    )
    op.create_table('enrollment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('major_id', sa.Integer(), nullable=False),
    sa.Column('course_codes', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['major_id'], ['major.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['exam_session.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['exam_site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('candidate_id', 'session_id')
    )
    op.create_table('exam_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('out_trade_no', sa.String(length=32), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('major_id', sa.Integer(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('active_key', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=True),
    sa.Column('seat_number', sa.Integer(), nullable=True),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['major_id'], ['major.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['exam_session.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['exam_site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('active_key'),
    sa.UniqueConstraint('out_trade_no')
    )
    with op.batch_alter_table('exam_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_order_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_order_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_order_status'), ['status'], unique=False)

    op.create_table('major_course',
    sa.Column('major_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['major_id'], ['major.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('major_id', 'course_id')
    )
    op.create_table('document_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['exam_order.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('payment_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('code_url', sa.String(length=256), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['exam_order.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payment_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_code_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payment_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_code_order_id'))

    op.drop_table('payment_code')
    op.drop_table('document_link')
    op.drop_table('major_course')
    with op.batch_alter_table('exam_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_order_status'))
        batch_op.drop_index(batch_op.f('ix_exam_order_expires_at'))
        batch_op.drop_index(batch_op.f('ix_exam_order_candidate_id'))

    op.drop_table('exam_order')
    op.drop_table('enrollment')
    op.drop_table('passed_course')
    with op.batch_alter_table('major', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_major_session_id'))

    op.drop_table('major')
    with op.batch_alter_table('exam_site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_site_session_id'))

    op.drop_table('exam_site')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_session_id'))

    op.drop_table('course')
    with op.batch_alter_table('sandbox_trade', schema=None) as batch_op:
        batch_op.drop_index('ux_sandbox_trade_paid_once', sqlite_where=sa.text("status = 'TRADE_SUCCESS'"), postgresql_where=sa.text("status = 'TRADE_SUCCESS'"))
        batch_op.drop_index(batch_op.f('ix_sandbox_trade_out_trade_no'))

    op.drop_table('sandbox_trade')
    with op.batch_alter_table('payment_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_notice_out_trade_no'))

    op.drop_table('payment_notice')
    op.drop_table('exam_session')
