"""shifts, cash movements, day close (Z), domain events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import data.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), sa.ForeignKey("terminal.id"), nullable=False, index=True),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("opened_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", data.types.UTCDateTime(), nullable=True),
        sa.Column("status", S(length=8), nullable=False, index=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "cash_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), sa.ForeignKey("terminal.id"), nullable=False, index=True),
        sa.Column("shift_id", sa.Integer(), sa.ForeignKey("shift.id"), nullable=True, index=True),
        sa.Column("kind", S(length=12), nullable=False),
        sa.Column("amount", data.types.ScaledDecimal(), nullable=False),
        sa.Column("counts", data.types.JSONText(), nullable=False),
        sa.Column("reason", S(), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("at", data.types.UTCDateTime(), nullable=False, index=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "day_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), sa.ForeignKey("terminal.id"), nullable=False, index=True),
        sa.Column("z_number", sa.Integer(), nullable=False),
        sa.Column("business_date", S(length=10), nullable=False, index=True),
        sa.Column("opened_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("last_sale_id", sa.Integer(), nullable=False),
        sa.Column("last_movement_id", sa.Integer(), nullable=False),
        sa.Column("counted_cash", data.types.ScaledDecimal(), nullable=False),
        sa.Column("expected_cash", data.types.ScaledDecimal(), nullable=False),
        sa.Column("variance", data.types.ScaledDecimal(), nullable=False),
        sa.Column("counts", data.types.JSONText(), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), sa.ForeignKey("operator.id"), nullable=True),
        sa.Column("reason", S(), nullable=False),
        sa.Column("report", data.types.JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("terminal_id", "z_number"),
    )
    op.create_table(
        "domain_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", S(length=32), nullable=False, index=True),
        sa.Column("reference", S(length=64), nullable=False),
        sa.Column("payload", data.types.JSONText(), nullable=False),
        sa.Column("created_at", data.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receipt_series") as batch:
        batch.add_column(sa.Column("next_z", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("receipt_series") as batch:
        batch.drop_column("next_z")
    for table in ("domain_event", "day_close", "cash_movement", "shift"):
        op.drop_table(table)
