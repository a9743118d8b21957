"""The catalogue's counting units arrive on a database that already holds coal.

A database migrated up to the catalogue without units (the two unit migrations undone, the
column dropped), holding a coal offer of 60 bags as the platform stored coal then, is migrated
again: coal's item says it is counted in 25 kg bags, every other item in pieces, and the offer
still holds its 60 bags (1.5 t), nothing rewritten.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from nuanxin.units import Unit, from_count

UNIT_MIGRATIONS = ("2026-11-30T09:30:00:000000", "2026-11-30T09:30:01:000000")


def _migrate(database: Path, var_dir: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "NUANXIN_VAR_DIR": str(var_dir),
        "NUANXIN_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "-m", "nuanxin", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _step_back_to_a_catalogue_without_units(database: Path) -> None:
    """The database as it was before the unit migrations, with a coal offer of 60 bags."""
    connection = sqlite3.connect(database)
    try:
        placeholders = ", ".join("?" for _ in UNIT_MIGRATIONS)
        undone = connection.execute(
            f"DELETE FROM migration WHERE name IN ({placeholders})", UNIT_MIGRATIONS
        ).rowcount
        assert undone == len(UNIT_MIGRATIONS), "the unit migrations ran"
        connection.execute("ALTER TABLE item DROP COLUMN unit")
        (coal,) = connection.execute("SELECT id FROM item WHERE code = 'coal'").fetchone()
        # the offer's charity and warehouse need not exist for this (foreign keys are off here)
        today = datetime.now(UTC).date().isoformat()
        connection.execute(
            "INSERT INTO offer (organization, warehouse, item, quantity, available, reserved,"
            " delivered, withdrawn, lat, lon, radius_km, available_from, available_until,"
            " status, note, created_at, updated_at)"
            " VALUES (1, 1, ?, 60, 50, 10, 0, 0, 45.9, 126.6, 30, ?, ?, 'open', '', ?, ?)",
            (coal, today, today, today, today),
        )
        connection.commit()
    finally:
        connection.close()


def test_existing_coal_keeps_its_bags_and_the_catalogue_learns_its_units(
    tmp_path: Path,
) -> None:
    database = tmp_path / "before_units.sqlite3"
    _migrate(database, tmp_path)
    _step_back_to_a_catalogue_without_units(database)

    _migrate(database, tmp_path)

    connection = sqlite3.connect(database)
    try:
        units = dict(connection.execute("SELECT code, unit FROM item").fetchall())
        offer = connection.execute(
            "SELECT quantity, available, reserved FROM offer WHERE note = ''"
        ).fetchone()
        ran = connection.execute(
            "SELECT count(*) FROM migration WHERE app_name = 'offers' AND name IN (?, ?)",
            UNIT_MIGRATIONS,
        ).fetchone()
    finally:
        connection.close()
    assert units.pop("coal") == Unit.bag_25kg.value
    assert units and set(units.values()) == {Unit.piece.value}, units
    assert offer == (60, 50, 10), "no quantity was rewritten"
    assert from_count(offer[0], Unit.bag_25kg, Unit.t) == Decimal("1.5")
    assert ran == (2,)
