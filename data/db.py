"""Engines and transactions. SQLite runs in WAL with foreign keys, a busy timeout and BEGIN IMMEDIATE
for writes, so two writers queue instead of failing half-way; PostgreSQL uses the same code."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from data.revision import HEAD_REVISION

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 4000
"""SQLite's own checkpoint, run by whichever commit pushes the WAL past this (16 MB): a backstop. The
console checkpoints in the background (checkpoint()), so a sale rarely pays for it; SQLite's default
of 1000 pages made every ~35th sale copy its pages back and fsync, a cost that grew with every page a
sale writes (the outbox's included)."""


class DatabaseError(RuntimeError):
    """The database cannot be opened or upgraded; the message names it."""


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def dialect_insert(dialect: str):
    """The INSERT construct with ON CONFLICT for this dialect (PostgreSQL's or SQLite's)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def make_engine(url: str, *, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).parent
            if not folder.exists():
                raise DatabaseError(f"database folder does not exist: {folder}")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )
        _tune_sqlite(engine)
        return engine
    # One connection per use on the site database: tills come and go, idle ones must not pile up.
    return create_engine(url, echo=echo, poolclass=NullPool, connect_args={"connect_timeout": 5})


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's begin event decide how transactions start (pysqlite would BEGIN DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("till_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def checkpoint(engine: Engine) -> None:
    """Copy the WAL back into the database file without waiting for readers or writers (PASSIVE);
    blocking, for a background worker. Nothing to do on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").close()


_WRITERS: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()


def writer(engine: Engine) -> Engine:
    """The same engine with transactions that start BEGIN IMMEDIATE on SQLite (made once per engine)."""
    w = _WRITERS.get(engine)
    if w is None:
        w = _WRITERS[engine] = engine.execution_options(till_write=True)
    return w


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One write transaction: BEGIN IMMEDIATE on SQLite, committed on success, rolled back on error."""
    with Session(writer(engine), expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    # Closing ends the transaction; rows handed out stay readable (a rollback would expire them).
    with Session(engine, expire_on_commit=False) as session:
        yield session


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except Exception:
            conn.rollback()
            return None
        return row[0] if row else None




def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def upgrade(engine: Engine) -> bool:
    """Apply pending migrations; returns whether anything ran. Alembic is imported only when there is
    something to do: it is a large share of start-up otherwise."""
    try:
        if current_revision(engine) == HEAD_REVISION:
            return False
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
    except DatabaseError:
        raise
    except Exception as exc:  # the message is shown to the operator as one line
        raise DatabaseError(f"cannot upgrade database {engine.url.render_as_string(hide_password=True)}: {exc}") from exc
    return True
