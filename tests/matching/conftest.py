"""Fixtures for the engine's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "matching"


@pytest.fixture
def fixtures_dir() -> Path:
    """Where the golden instances live."""
    return FIXTURES
