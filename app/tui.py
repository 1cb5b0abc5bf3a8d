"""TillApp: the console. make_app(settings) is what the CLI and the tests call."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App
from textual.binding import Binding

from app.commands import ScreenActions
from app.config import Settings
from app.context import TillContext, make_printer
from app.devices.scanner import ScannerReader
from app.idle_gc import IdleCollector
from app.messages import (CataloguePulled, DatabaseOpened, ScanArrived, ScannerState, SiteProgress, SiteStatus,
                          SpoolDrained)
from widgets.key_footer import key_display

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from data.places import Place


log = logging.getLogger("till.console")
CONSOLE_PASS_JOBS = 200
"""Jobs per connector in one of the console's background passes (one every 5 s)."""
CHECKPOINT_SECONDS = 30
"""How often the console copies the WAL back into the database file (see data.db.checkpoint)."""


class TillApp(App):
    CSS_PATH = Path(__file__).parent / "till.tcss"
    TITLE = "Till"
    COMMANDS = App.COMMANDS | {ScreenActions}
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit", show=False, priority=True)]

    def __init__(self, ctx: TillContext, *, guard_errors: bool | None = None) -> None:
        """`guard_errors`: app.error_guard's handling of unexpected errors; None: when not headless
        (a real terminal or browser), so that under Pilot an exception still fails the test."""
        super().__init__()
        self.ctx = ctx
        self._guard_errors = guard_errors
        self._error_guard = None
        store = ctx.settings.store
        self.sub_title = f"{store.name} · {store.id}/{store.terminal}"
        self.spooler = None  # made when the database is open
        self._export_targets = None
        self.scanner: ScannerReader | None = None
        self.scanner_state = ""
        self.printer_state = "ok" if ctx.printer.enabled else "none"
        self.pending_scans: deque[str] = deque()
        self.site_state = None  # app.site_link.SiteState once the site has been tried
        self._export_worker = None
        self.idle_gc = IdleCollector()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.idle_gc.touched()  # typing is not idle: the full collection waits
        await super().on_event(event)

    @property
    def export_targets(self):
        """The connectors that get jobs with each sale (made on first use: it loads the data layer)."""
        if self._export_targets is None:
            from app.exports import targets

            self._export_targets = targets(self.ctx.settings)
        return self._export_targets

    def _handle_exception(self, error: Exception) -> None:
        """An error in a worker (the database locked or full, a bug in one step) is a line on screen and
        the traceback in the log, and the console carries on: the worker is gone, nothing else is. Any
        other error stops the console as Textual would, but with one line instead of a traceback."""
        guard = self._guard_errors if self._guard_errors is not None else not self.is_headless
        if not guard:
            return super()._handle_exception(error)
        from textual.worker import WorkerFailed

        from app.error_guard import ErrorGuard, one_line

        if self._error_guard is None:
            self._error_guard = ErrorGuard()
        carry_on = self._error_guard.survive(error)
        self.bell()
        if carry_on and isinstance(error, WorkerFailed):
            self.notify(f"{one_line(error)}. That step was not done; the sale is kept. The details are in "
                        f"the log.", title="Something went wrong", severity="error", timeout=15, markup=False)
            return
        from rich.text import Text

        self._return_code = 1
        self._exit_renderables.append(Text(f"till: error: {one_line(error)} (the traceback is in "
                                           f"{self.ctx.settings.home / 'logs'})"))
        self._close_messages_no_wait()

    def get_key_display(self, binding: Binding) -> str:
        if binding.key_display:
            return binding.key_display
        return key_display(binding.key)

    def on_mount(self) -> None:
        import sys

        from app.screens.login import LoginScreen

        # The scanner's reader thread must get the interpreter back quickly while the screen paints;
        # the default 5 ms switch interval lets a paint hold a scan for tens of milliseconds.
        sys.setswitchinterval(0.001)

        if self.ctx.settings.keys:
            self.set_keymap(self.ctx.settings.keys)
        self.push_screen(LoginScreen())
        self._start_scanner()
        if self.ctx.is_ready:
            self._database_opened()
        else:
            # After the first frame, so the import of the data layer does not hold up the login screen.
            self.call_after_refresh(self._open_database)

    @work(thread=True, group="database", exit_on_error=False)
    def _open_database(self) -> None:
        """After the login screen is up: import the data layer, open and upgrade the database."""
        try:
            from data.db import make_engine, upgrade

            engine = make_engine(self.ctx.settings.database_url)
            upgrade(engine)
            place = place_from_settings(self.ctx.settings, engine)
        except Exception as exc:  # noqa: BLE001 - shown on the login screen, and logged
            log.exception("cannot open the database")
            self.ctx.set_failed(str(exc).splitlines()[0][:200])
            self.post_message(DatabaseOpened(ok=False))
            return
        self.ctx.set_database(engine, place)
        self.post_message(DatabaseOpened(ok=True))

    @on(DatabaseOpened)
    def _database_message(self, event: DatabaseOpened) -> None:
        if event.ok:
            self._database_opened()
        else:
            self.idle_gc.install()  # start-up is over, if not the way it should be
            for screen in self.screen_stack:
                if hasattr(screen, "database_failed"):
                    screen.database_failed(self.ctx.error or "cannot open the database")

    def _database_opened(self) -> None:
        from app.printing import Spooler

        self.spooler = Spooler(self.ctx)
        # Start-up is done (the data layer is in): from here on full collections wait for a pause.
        self.call_after_refresh(self.idle_gc.install)
        self.set_interval(1.0, self.idle_gc.tick)
        if self.ctx.engine.dialect.name == "sqlite":
            self.set_interval(CHECKPOINT_SECONDS, self._checkpoint)
        if any(t.live for t in self.export_targets):
            self.set_interval(5, self.deliver_exports)  # the sale screen never waits on the network
        if self.ctx.has_site and not self.ctx.settings.is_back_office:
            self.deliver_exports()  # whatever waited while the till was off goes now
            self.pull_catalogue()
            self.set_interval(self.ctx.settings.site.pull_minutes * 60, self.pull_catalogue)
        if self.ctx.printer.enabled:
            self.set_interval(self.ctx.settings.printer.retry_seconds, self._retry_spool)
            self.print_spool()  # whatever a crash or a dead printer left behind

    @work(thread=True, exclusive=True, group="checkpoint", exit_on_error=False)
    def _checkpoint(self) -> None:
        """The WAL copied back between sales, so a sale's commit does not have to (data.db.checkpoint)."""
        from data.db import checkpoint

        try:
            checkpoint(self.ctx.engine)
        except Exception:  # noqa: BLE001 - a busy or locked database: the next round or SQLite's backstop does it
            log.warning("background checkpoint failed", exc_info=True)

    def on_unmount(self) -> None:
        self.idle_gc.uninstall()
        if self.scanner is not None:
            self.scanner.stop()

    # -- scanner ---------------------------------------------------------------------------------
    def _start_scanner(self) -> None:
        cfg = self.ctx.settings.scanner
        if not cfg.port:
            return
        self.scanner_state = "connecting"
        self.scanner = ScannerReader(
            cfg.port, baudrate=cfg.baudrate, suffix=cfg.suffix, prefix=cfg.prefix,
            on_scan=lambda code: self.post_message(ScanArrived(code)),
            on_status=lambda state, detail: self.post_message(ScannerState(state, detail)),
        )
        self.scanner.start()

    @on(ScannerState)
    def _scanner_state(self, event: ScannerState) -> None:
        was = self.scanner_state
        self.scanner_state = event.state
        self.show_devices()
        say = getattr(self.screen, "say", None)
        if event.state == "disconnected":
            log.warning("scanner disconnected: %s", event.detail)
            if say is not None:
                say(f"scanner disconnected: {event.detail}; retrying every 2 s", "warning")
        elif event.state == "connected" and was == "disconnected":
            log.info("scanner connected again")
            if say is not None:  # the warning above must not stay up once the scanner is back
                say("scanner connected again")

    @on(ScanArrived)
    def _scan(self, event: ScanArrived) -> None:
        """Where a scan goes: into the search box if search is open, into the sale if the sale screen
        is showing, otherwise it waits (in order) until the sale screen is back."""
        from app.screens.sale import SaleScreen

        self.idle_gc.touched()
        screen = self.screen
        set_query = getattr(screen, "set_query", None)  # product search, the manager's products screen
        if set_query is not None:
            set_query(event.code)
        elif isinstance(screen, SaleScreen) and not self.pending_scans:
            screen.enter_code(event.code, from_scanner=True)
        else:
            self.pending_scans.append(event.code)
            self.show_devices()

    def take_pending_scans(self) -> list[str]:
        scans = list(self.pending_scans)
        self.pending_scans.clear()
        return scans

    # -- printer ---------------------------------------------------------------------------------
    @work(thread=True, group="printer", exit_on_error=False)
    def print_spool(self) -> None:
        if self.spooler is not None:
            self.post_message(SpoolDrained(self.spooler.drain()))

    def deliver_exports(self):
        """One delivery pass in a worker; while one runs, asking again joins it (a thread cannot be
        stopped, so replacing it would only run two passes at once)."""
        running = self._export_worker
        if running is not None and not running.is_finished:
            return running
        self._export_worker = self._deliver_exports()
        return self._export_worker

    @work(thread=True, group="exports", exit_on_error=False)
    def _deliver_exports(self) -> None:
        from app.exports import run_once

        try:
            # Bounded: a backlog goes over several passes, so quitting never waits on a long one.
            report = run_once(self.ctx.settings, self.ctx.engine, limit=CONSOLE_PASS_JOBS,
                              site_progress=self._site_progress)
        except Exception as exc:  # noqa: BLE001 - a failing export never stops the till
            log.exception("exports: %s", exc)
            return
        site = self.ctx.settings.site_connector()
        if site is not None:
            from app.site_link import state_after

            run = report.site
            online = None if run is None else run.online
            self.post_message(SiteStatus(state_after(self.ctx.engine, site.name, online, run.error if run else "")))

    @work(thread=True, exclusive=True, group="catalogue", exit_on_error=False)
    def pull_catalogue(self) -> None:
        """Products, prices, barcodes and operators changed at head office (on start, then every few minutes)."""
        from app.connectors.site import is_connectivity, reason
        from app.site_link import pull_catalogue

        try:
            changed = pull_catalogue(self.ctx.settings, self.ctx.engine, progress=self._pull_progress)
        except Exception as exc:  # noqa: BLE001 - the till sells from what it has
            if not is_connectivity(exc):
                log.exception("catalogue pull: %s", exc)
            self.post_message(CataloguePulled(0, reason(exc)))
            return
        self.post_message(CataloguePulled(changed))

    CATCH_UP_BAR_FROM = 200
    """Records waiting before a catch-up shows a progress bar."""

    def _pull_progress(self, done: int, total: int) -> None:
        if total > 2 * self.CATCH_UP_BAR_FROM:  # a first pull of a big catalogue: a page is 2,000
            self.post_message(SiteProgress(done, total))

    def _site_progress(self, sent: int, total: int) -> None:
        if total >= self.CATCH_UP_BAR_FROM:
            self.post_message(SiteProgress(sent, total))

    @on(SiteProgress)
    def _site_progressed(self, event: SiteProgress) -> None:
        self._show_progress(event.sent, event.total)

    def _show_progress(self, done: int, total: int | None) -> None:
        for bar in self.status_bars():
            bar.progress(done, total)

    @on(SiteStatus)
    def _site_status(self, event: SiteStatus) -> None:
        self.site_state = event.state
        self._show_progress(0, None)  # a pass has ended: whatever is left goes in the next
        self.show_devices()

    @on(CataloguePulled)
    def _catalogue_pulled(self, event: CataloguePulled) -> None:
        self._show_progress(0, None)
        if event.error:
            log.warning("catalogue pull: %s", event.error)
        elif event.changed:
            log.info("catalogue pull: %d changes from the site", event.changed)

    def _retry_spool(self) -> None:
        if self.printer_state != "ok":
            self.print_spool()

    @on(SpoolDrained)
    def _drained(self, event: SpoolDrained) -> None:
        result = event.result
        if result.error:
            self.printer_state = f"ERROR: {result.error} ({result.waiting} waiting)"
            self.bell()
        else:
            self.printer_state = "ok"
        self.show_devices()
        screen = self.screen
        if hasattr(screen, "on_printed"):
            screen.on_printed(result)

    def device_text(self) -> str:
        parts = []
        if self.scanner_state:
            parts.append(f"scanner {self.scanner_state}")
        if self.pending_scans:
            parts.append(f"{len(self.pending_scans)} scan(s) waiting")
        parts.append("no printer" if self.printer_state == "none" else f"printer: {self.printer_state}")
        site = self.site_state.text() if self.site_state is not None else ""
        if site:
            parts.append(site)
        return " · ".join(parts)

    def status_bars(self):
        """Every status bar in the screen stack: attributes go down to all of them alike."""
        from widgets.status_bar import StatusBar

        for screen in self.screen_stack:
            yield from screen.query(StatusBar)

    def show_devices(self) -> None:
        text = self.device_text()
        for bar in self.status_bars():
            bar.devices = text


def place_from_settings(settings: Settings, engine: Engine) -> Place:
    from data.places import ensure_place

    s = settings.store
    return ensure_place(engine, store_id=s.id, store_name=s.name, terminal=s.terminal, currency=s.currency,
                        locale=s.locale, timezone=s.timezone, prices_include_vat=s.prices_include_vat,
                        cash_rounding=s.cash_rounding)


def make_app(settings: Settings, *, engine: Engine | None = None, place: Place | None = None,
             guard_errors: bool | None = None) -> TillApp:
    """The console for these settings. With an engine (the CLI after a migration, tests) the database
    is ready at once; without one it is opened in the background once the login screen is painted.
    `guard_errors`: see TillApp."""
    ctx = TillContext(settings=settings, printer=make_printer(settings))
    if engine is not None:
        ctx.set_database(engine, place or place_from_settings(settings, engine))
    return TillApp(ctx, guard_errors=guard_errors)
