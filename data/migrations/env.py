"""Alembic environment: the engine comes from data.db.upgrade (or a URL for the alembic CLI)."""

from alembic import context
from sqlmodel import SQLModel

import data.models  # noqa: F401 - registers the tables
from data.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
