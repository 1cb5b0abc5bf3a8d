"""The newest migration, importable without SQLAlchemy: start-up compares the database against it
before deciding whether Alembic needs loading at all. A test checks it equals Alembic's head."""

HEAD_REVISION = "0007"
