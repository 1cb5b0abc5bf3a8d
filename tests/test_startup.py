"""Start-up: the login screen comes first and the database opens behind it (the CLI's fast path)."""

from __future__ import annotations

from app.cli import database_ready_without_work
from app.config import load_settings
from app.screens.login import LoginScreen
from app.screens.sale import SaleScreen
from app.tui import make_app
from tests.pilot import enter, settle


async def test_login_is_usable_while_the_database_opens_behind_it(settings):
    assert database_ready_without_work(settings)
    app = make_app(settings)  # no engine: opened by a worker after the first frame
    async with app.run_test() as pilot:
        assert isinstance(app.screen, LoginScreen)
        await enter(pilot, "1")
        await enter(pilot, "1111")
        await settle(pilot)
        assert app.ctx.is_ready
        assert isinstance(app.screen, SaleScreen)


async def test_database_that_cannot_open_is_said_on_the_login_screen(home):
    (home / "till.toml").write_text('[database]\nurl = "sqlite:///missing/folder/till.db"\n', encoding="utf-8")
    settings = load_settings(home)
    assert not database_ready_without_work(settings)
    app = make_app(settings)
    async with app.run_test() as pilot:
        await settle(pilot)
        await enter(pilot, "1")
        await enter(pilot, "1111")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "database" in app.screen.message and "does not exist" in app.screen.message


def test_fast_path_only_for_an_up_to_date_database_with_operators(settings, engine):
    from sqlalchemy import text

    assert database_ready_without_work(settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not database_ready_without_work(settings)
