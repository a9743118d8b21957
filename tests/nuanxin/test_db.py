"""The database engine comes from the settings handed to the app, not from the environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from piccolo.engine.sqlite import SQLiteEngine

from nuanxin.accounts.tables import User
from nuanxin.app import create_app
from nuanxin.db import configure, engine
from nuanxin.settings import Settings


def test_create_app_uses_the_database_its_settings_name(tmp_path: Path) -> None:
    from_env = Settings.from_env()
    other = tmp_path / "other.sqlite3"
    given = dataclasses.replace(from_env, database_url=f"sqlite:///{other}")
    assert given.database_url != from_env.database_url
    try:
        create_app(given, manage_pool=False)
        used = engine()
        assert isinstance(used, SQLiteEngine)
        assert Path(used.path) == other
        assert User._meta.db is used  # the tables too
    finally:
        configure(from_env)
    assert engine() is not used
    assert User._meta.db is engine()


def test_the_same_settings_keep_the_same_engine() -> None:
    settings = Settings.from_env()
    assert configure(settings) is configure(dataclasses.replace(settings)) is engine()
