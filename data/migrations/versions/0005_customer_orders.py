"""customer orders, their lines, payments and reservation journal

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import data.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "order_series",
        sa.Column("store_id", S(length=32), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )
    op.create_table(
        "customer_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", S(length=48), nullable=False, unique=True),
        sa.Column("store_id", S(length=32), nullable=False, index=True),
        sa.Column("fulfil_store", S(length=32), nullable=False, index=True),
        sa.Column("status", S(length=10), nullable=False, index=True),
        sa.Column("source", S(length=12), nullable=False),
        sa.Column("external_id", S(length=64), nullable=True, unique=True),
        sa.Column("customer_name", S(), nullable=False),
        sa.Column("customer_phone", S(length=20), nullable=False, index=True),
        sa.Column("member_phone", S(length=20), nullable=True),
        sa.Column("delivery_method", S(length=10), nullable=False),
        sa.Column("delivery_address", S(), nullable=False),
        sa.Column("expected_date", S(length=10), nullable=True),
        sa.Column("comments", S(), nullable=False),
        sa.Column("currency", S(length=3), nullable=False),
        sa.Column("prices_include_vat", sa.Boolean(), nullable=False),
        sa.Column("basket_discount", data.types.JSONText(), nullable=False),
        sa.Column("total", data.types.Money(), nullable=False),
        sa.Column("paid", data.types.Money(), nullable=False),
        sa.Column("applied", data.types.Money(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", S(length=16), nullable=False),
        sa.Column("created_at", data.types.UTCDateTime(), nullable=False, index=True),
        sa.Column("updated_at", data.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", data.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "customer_order_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("customer_order.id"), nullable=False, index=True),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", S(length=64), nullable=False),
        sa.Column("barcode", S(), nullable=True),
        sa.Column("name", S(), nullable=False),
        sa.Column("quantity", data.types.Quantity(), nullable=False),
        sa.Column("picked", data.types.Quantity(), nullable=False),
        sa.Column("status", S(length=10), nullable=False),
        sa.Column("unit_price", data.types.Money(), nullable=False),
        sa.Column("original_price", data.types.Money(), nullable=False),
        sa.Column("vat_rate", data.types.Rate(), nullable=False),
        sa.Column("discount", data.types.JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "order_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("customer_order.id"), nullable=False, index=True),
        sa.Column("uid", S(length=64), nullable=False, unique=True),
        sa.Column("kind", S(length=10), nullable=False),
        sa.Column("amount", data.types.Money(), nullable=False),
        sa.Column("tender", S(length=32), nullable=False),
        sa.Column("receipt_number", S(length=48), nullable=False),
        sa.Column("store_id", S(length=32), nullable=False),
        sa.Column("operator", S(length=16), nullable=False),
        sa.Column("at", data.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reservation_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("customer_order.id"), nullable=False, index=True),
        sa.Column("line_id", sa.Integer(), sa.ForeignKey("customer_order_line.id"), nullable=False, index=True),
        sa.Column("store_id", S(length=32), nullable=False),
        sa.Column("sku", S(length=64), nullable=False),
        sa.Column("kind", S(length=8), nullable=False),
        sa.Column("quantity", data.types.Quantity(), nullable=False),
        sa.Column("operator", S(length=16), nullable=False),
        sa.Column("at", data.types.UTCDateTime(), nullable=False),
        sa.Column("note", S(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # What the item inventory view and every reservation sum look up: one store's journal of one item.
    op.create_index("ix_reservation_entry_store_sku", "reservation_entry", ["store_id", "sku"])


def downgrade() -> None:
    op.drop_index("ix_reservation_entry_store_sku", table_name="reservation_entry")
    for table in ("reservation_entry", "order_payment", "customer_order_line", "customer_order", "order_series"):
        op.drop_table(table)
