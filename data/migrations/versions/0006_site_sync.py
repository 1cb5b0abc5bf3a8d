"""site sync: operator permissions and change times, catalogue watermark, one Z per number and terminal,
each till's outbox state at the site

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import data.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("permissions", data.types.JSONText(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("updated_at", data.types.UTCDateTime(), nullable=False,
                                      server_default="1970-01-01 00:00:00.000000"))
        batch_op.create_index("ix_operator_updated_at", ["updated_at"], unique=False)
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index("ix_product_updated_at", ["updated_at"], unique=False)
    with op.batch_alter_table("day_close", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_day_close_terminal_z", ["terminal_id", "z_number"])
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        # One index for "this connector's jobs in these states, due first" (claims, backlog, health)
        # instead of one per column: every sale writes its jobs, and each index is pages to write.
        batch_op.drop_index("ix_export_job_connector")
        batch_op.drop_index("ix_export_job_next_attempt_at")
        batch_op.create_index("ix_export_job_due", ["connector", "state", "next_attempt_at"], unique=False)
    op.create_table(
        "till_status",
        sa.Column("store_id", S(length=32), nullable=False),
        sa.Column("terminal", S(length=16), nullable=False),
        sa.Column("connector", S(length=64), nullable=False),
        sa.Column("kind", S(length=16), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("oldest_waiting", data.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", S(), nullable=False),
        sa.Column("reported_at", data.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "terminal", "connector"),
    )
    op.create_table(
        "sync_state",
        sa.Column("name", S(length=64), nullable=False),
        sa.Column("value", S(), nullable=False),
        sa.Column("updated_at", data.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_table("till_status")
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.drop_index("ix_export_job_due")
        batch_op.create_index("ix_export_job_next_attempt_at", ["next_attempt_at"], unique=False)
        batch_op.create_index("ix_export_job_connector", ["connector"], unique=False)
    with op.batch_alter_table("day_close", schema=None) as batch_op:
        batch_op.drop_constraint("uq_day_close_terminal_z", type_="unique")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("ix_product_updated_at")
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_updated_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("permissions")
