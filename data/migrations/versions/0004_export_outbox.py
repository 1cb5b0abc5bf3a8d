"""export outbox: jobs, attempts, connector state

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import data.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector", S(length=64), nullable=False, index=True),
        sa.Column("kind", S(length=48), nullable=False),
        sa.Column("event", S(length=32), nullable=False),
        sa.Column("source_type", S(length=16), nullable=False),
        sa.Column("source_id", S(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", S(length=200), nullable=False, unique=True),
        sa.Column("business_date", S(length=10), nullable=True),
        sa.Column("payload", data.types.JSONText(), nullable=False),
        sa.Column("state", S(length=12), nullable=False, index=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", data.types.UTCDateTime(), nullable=False, index=True),
        sa.Column("lease_owner", S(length=64), nullable=True),
        sa.Column("lease_expires_at", data.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", S(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("remote_id", S(), nullable=False),
        sa.Column("resolution", S(), nullable=False),
        sa.Column("created_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("succeeded_at", data.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "export_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("export_job.id"), nullable=False, index=True),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("started_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", data.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", S(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", S(), nullable=False),
        sa.Column("error", S(), nullable=False),
        sa.Column("request_headers", data.types.JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


    op.create_table(
        "connector_state",
        sa.Column("name", S(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("reason", S(), nullable=False),
        sa.Column("updated_at", data.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("connector_state")
    op.drop_table("export_attempt")
    op.drop_table("export_job")
