"""Fault scenarios run real server processes on a database of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKEND, POSTGRES_ADMIN_URL
from tests.faults.server import Database, scenario_database


@pytest.fixture
def fault_database(tmp_path: Path) -> Iterator[Database]:
    admin = POSTGRES_ADMIN_URL if BACKEND == "postgres" else None
    with scenario_database(tmp_path, admin) as database:
        yield database
