"""outbox: payloads written once per event, one unique index by source, one due index led by state

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import data.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# A sale with three connectors writes three jobs. The outbox cost more in pages written at commit than
# in anything else: each job carried its own copy of the ~1 KB payload, and keyed by idempotency key
# ("<connector>:…") or led by the connector, each index put the three rows on three different pages.
# Now the payload is written once (export_payload), and keyed by source and led by state (every new job
# is pending and due now) the three rows share one page per index.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.create_table(
        "export_payload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", data.types.JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO export_payload (id, body) SELECT id, payload FROM export_job")
    if not sqlite:
        op.execute("SELECT setval(pg_get_serial_sequence('export_payload', 'id'), "
                   "COALESCE((SELECT max(id) FROM export_payload), 0) + 1, false)")
    op.add_column("export_job", sa.Column("payload_id", sa.Integer(), nullable=True))
    op.execute("UPDATE export_job SET payload_id = id")
    with op.batch_alter_table("export_job", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.alter_column("payload_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_export_job_payload_id", "export_payload", ["payload_id"], ["id"])
        batch_op.drop_column("payload")
        batch_op.drop_constraint("uq_export_job_idempotency_key" if sqlite else "export_job_idempotency_key_key",
                                 type_="unique")
        batch_op.create_unique_constraint("uq_export_job_source", ["source_id", "event", "revision", "connector"])
        batch_op.drop_index("ix_export_job_state")
        batch_op.drop_index("ix_export_job_due")
        batch_op.create_index("ix_export_job_due", ["state", "next_attempt_at", "connector"], unique=False)


def downgrade() -> None:
    op.add_column("export_job", sa.Column("payload", data.types.JSONText(), nullable=True))
    op.execute("UPDATE export_job SET payload = (SELECT body FROM export_payload WHERE export_payload.id = "
               "export_job.payload_id)")
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=data.types.JSONText(), nullable=False)
        batch_op.drop_constraint("fk_export_job_payload_id", type_="foreignkey")
        batch_op.drop_column("payload_id")
        batch_op.drop_index("ix_export_job_due")
        batch_op.create_index("ix_export_job_due", ["connector", "state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_export_job_state", ["state"], unique=False)
        batch_op.drop_constraint("uq_export_job_source", type_="unique")
        batch_op.create_unique_constraint("uq_export_job_idempotency_key", ["idempotency_key"])
    op.drop_table("export_payload")
