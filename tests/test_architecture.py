"""Import direction (app -> widgets -> data), headless data and devices, and the migration head."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _modules(package_dir: Path, prefix: str, skip: tuple[str, ...] = ()) -> list[str]:
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir).with_suffix("")
        parts = list(rel.parts)
        if any(part in skip for part in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join([prefix, *parts]) if parts else prefix)
    return names


# Alembic's env.py and revision files run inside an Alembic context, not on a plain import.
DATA_MODULES = _modules(ROOT / "data", "data", skip=("migrations",))
DEVICE_MODULES = _modules(ROOT / "app" / "devices", "app.devices")

_PROBE = """
import importlib, json, sys
names = json.loads(sys.argv[1])
for name in names:
    importlib.import_module(name)
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""


def _imported_top_levels(modules: list[str]) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(modules)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def _lint_imports() -> str | None:
    candidate = Path(sys.executable).with_name("lint-imports")
    if candidate.exists():
        return str(candidate)
    return shutil.which("lint-imports")


def test_import_linter_contracts_are_kept():
    exe = _lint_imports()
    if exe is None:
        pytest.fail("lint-imports (import-linter) is not installed; it is in the [test] extra")
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" in proc.stdout and " 0 broken" in proc.stdout


def test_the_contracts_cover_the_design_rules():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = config["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert any(c["layers"] == ["app", "widgets", "data"] for c in layers)
    forbidden = {tuple(c["source_modules"]): set(c["forbidden_modules"]) for c in contracts if c["type"] == "forbidden"}
    assert {"textual", "httpx", "serial", "escpos", "widgets", "app"} <= forbidden[("data",)]
    assert "textual" in forbidden[("app.devices",)]


def test_module_lists_are_not_empty():
    assert "data.models" in DATA_MODULES and "data.sales" in DATA_MODULES
    assert "app.devices.receipt_layout" in DEVICE_MODULES


def test_data_imports_no_ui_network_or_device_library():
    loaded = _imported_top_levels(DATA_MODULES)
    assert not loaded & {"textual", "httpx", "serial", "escpos", "rich", "widgets", "app"}, loaded


def test_devices_import_without_textual():
    loaded = _imported_top_levels(DEVICE_MODULES)
    assert "textual" not in loaded
    assert "widgets" not in loaded


def test_head_revision_constant_matches_alembic():
    from data.db import HEAD_REVISION, head_revision

    assert HEAD_REVISION == head_revision()


def test_migrations_have_a_single_head():
    from alembic.script import ScriptDirectory

    from data.db import MIGRATIONS

    assert len(ScriptDirectory(str(MIGRATIONS)).get_heads()) == 1


def test_models_match_the_migrations(tmp_path):
    """An upgraded database has every table and column the models declare (no missing migration)."""
    from sqlalchemy import inspect
    from sqlmodel import SQLModel

    import data.models  # noqa: F401
    from data.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'arch.db'}")
    upgrade(engine)
    insp = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        assert insp.has_table(table.name), table.name
        columns = {c["name"] for c in insp.get_columns(table.name)}
        assert {c.name for c in table.columns} <= columns, table.name
    engine.dispose()
