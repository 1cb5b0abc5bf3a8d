"""Child process for bench/startup.py: start one app headless, note when it is usable, exit.

    python bench/_startup_child.py till|bare HOME OUT.json

"till" builds the console exactly as `till run --home HOME` does (app.cli.main: hold_for_startup,
setup_logging, load_settings, console_for) and is ready when the LoginScreen is the active screen with its operator
Input focused and that state has been painted once. "bare" is a plain Textual app with Header, Input,
DataTable and Footer, ready when its Input is focused and painted. Timestamps are CLOCK_MONOTONIC, the
same clock the parent read just before spawning this process.
"""

import time

T_START = time.clock_gettime(time.CLOCK_MONOTONIC)

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZE = (100, 30)


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def high_water_kb() -> int | None:
    """Peak RSS so far (VmHWM), for the figure at the moment the screen is usable."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def build_till(home: Path):
    from app.cli import console_for, setup_logging
    from app.idle_gc import hold_for_startup

    hold_for_startup()  # as app.cli.main does for `till run`
    from app.config import load_settings

    marks = {"imported": now()}
    setup_logging(home)
    settings = load_settings(home)
    till = console_for(settings)
    marks["built"] = now()

    def ready(a) -> bool:
        from app.screens.login import LoginScreen

        focused = a.focused
        return isinstance(a.screen, LoginScreen) and focused is not None and focused.id == "login-operator"

    return till, ready, marks


def build_bare(_home: Path):
    from textual.app import App
    from textual.widgets import DataTable, Footer, Header, Input

    marks = {"imported": now()}

    class Bare(App):
        TITLE = "Bare"
        after_first_frame = None

        def compose(self):
            yield Header()
            yield Input(placeholder="operator code", id="operator")
            yield DataTable(id="table")
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("Item", "Qty", "Price", "Total")
            self.query_one(Input).focus()
            if self.after_first_frame is not None:
                self.call_after_refresh(self.after_first_frame)

    bare = Bare()
    marks["built"] = now()

    def ready(a) -> bool:
        focused = a.focused
        return focused is not None and focused.id == "operator"

    return bare, ready, marks


def build_bare_data(home: Path):
    """The bare app with the libraries the design card fixes for the data side: settings read with
    pydantic-settings, and SQLModel opening the same database in a thread once the app is mounted,
    as Till does. Not a target, for information: it shows how much of Till's peak is those libraries."""
    import threading
    import tomllib

    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Settings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="TILL_", env_nested_delimiter="__", extra="ignore")
        store: dict = {}
        database: dict = {}

    settings = Settings(**tomllib.loads((home / "till.toml").read_text()))
    bare, ready, marks = build_bare(home)
    opened = threading.Event()

    def open_database() -> None:
        from sqlmodel import Field, Session, SQLModel, create_engine, select

        class Operator(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            code: str

        engine = create_engine(f"sqlite:///{home / 'till.db'}")
        with Session(engine) as session:
            session.exec(select(Operator).where(Operator.code == "1")).first()
        bare.opened_with = settings
        opened.set()

    bare.after_first_frame = lambda: threading.Thread(target=open_database, daemon=True).start()
    bare.data_opened = opened
    return bare, ready, marks


BUILDERS = {"till": build_till, "bare": build_bare, "bare-data": build_bare_data}


def main() -> int:
    mode, home, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    the_app, ready, marks = BUILDERS[mode](home)
    result: dict = {"mode": mode, "start": T_START, **marks}

    async def autopilot(pilot) -> None:
        a = pilot.app
        deadline = now() + 60
        while not ready(a):
            if now() > deadline:
                result["error"] = "not ready within 60 s"
                a.exit(return_code=3)
                return
            await asyncio.sleep(0.001)
        result["focused"] = now()
        painted = asyncio.Event()
        a.call_after_refresh(painted.set)
        await asyncio.wait_for(painted.wait(), 30)
        result["ready"] = now()
        result["hwm_ready_kb"] = high_water_kb()
        # Peak RSS is that of a till that can sell: wait for the database the console opens behind
        # the login screen before leaving, so the data layer counts.
        ctx = getattr(a, "ctx", None)
        while ctx is not None and not ctx._ready.is_set() and now() < deadline:
            await asyncio.sleep(0.005)
        opened = getattr(a, "data_opened", None)
        while opened is not None and not opened.is_set() and now() < deadline:
            await asyncio.sleep(0.005)
        a.exit()

    the_app.run(headless=True, size=SIZE, auto_pilot=autopilot)
    result["exited"] = now()
    result["vmhwm_kb"] = high_water_kb()
    out.write_text(json.dumps(result))
    return 0 if "ready" in result else 3


if __name__ == "__main__":
    raise SystemExit(main())
