"""Settings are read once from the environment; a bad value is refused with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from nuanxin.settings import Settings, SettingsError


def settings_from(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"NUANXIN_VAR_DIR": str(tmp_path), **env})


def test_defaults_use_a_sqlite_file_under_var(tmp_path: Path) -> None:
    settings = settings_from(tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'nuanxin.sqlite3'}"
    assert not settings.is_postgres
    assert settings.sqlite_path == tmp_path / "nuanxin.sqlite3"
    assert settings.port == 8000


def test_a_postgresql_url_switches_the_engine(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, DATABASE_URL="postgresql://u@127.0.0.1:5432/nuanxin")
    assert settings.is_postgres


def test_the_demo_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = settings_from(tmp_path).secret_key
    second = settings_from(tmp_path).secret_key
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").read_text(encoding="utf-8").strip() == first


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = settings_from(tmp_path)
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite://relative.db"}, "DATABASE_URL"),
        ({"NUANXIN_ENV": "staging"}, "NUANXIN_ENV"),
        ({"NUANXIN_ENV": "production"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"NUANXIN_PORT": "eighty"}, "NUANXIN_PORT"),
        ({"NUANXIN_PORT": "70000"}, "NUANXIN_PORT"),
        ({"NUANXIN_DEBUG": "maybe"}, "NUANXIN_DEBUG"),
        ({"VERIFICATION_MONTHS": "0"}, "VERIFICATION_MONTHS"),
        ({"GEOCODER": "google"}, "GEOCODER"),
        ({"GEOCODER": "baidu"}, "BAIDU_AK"),
        ({"CURRENCY": "yuan"}, "CURRENCY"),
        ({"GEOCODER_MIN_DELAY_SECONDS": "soon"}, "GEOCODER_MIN_DELAY_SECONDS"),
        ({"PAYMENT_METHODS": " , "}, "PAYMENT_METHODS"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL"),
        ({"REDIS_NAMESPACE": "two words"}, "REDIS_NAMESPACE"),
        ({"EMBEDDED_WORKER": "sometimes"}, "EMBEDDED_WORKER"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE"),
        ({"DATABASE_STATEMENT_CACHE_SIZE": "-1"}, "DATABASE_STATEMENT_CACHE_SIZE"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from(tmp_path, **env)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")


def test_production_accepts_a_given_secret_key(tmp_path: Path) -> None:
    key = "k" * 40
    settings = settings_from(tmp_path, NUANXIN_ENV="production", SECRET_KEY=key)
    assert settings.is_production
    assert settings.secret_key == key
    assert not (tmp_path / "secret_key").exists()


def test_the_command_line_names_a_bad_variable(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "nuanxin", "migrate"],
        env={"NUANXIN_VAR_DIR": str(tmp_path), "NUANXIN_ENV": "production", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr


def test_a_bad_redis_url_is_not_repeated_in_the_error_it_may_hold_a_password(
    tmp_path: Path,
) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from(tmp_path, REDIS_URL="http://user:hunter2@cache:6379/0")
    assert "hunter2" not in str(caught.value)


def test_without_redis_the_shared_state_is_embedded(tmp_path: Path) -> None:
    assert settings_from(tmp_path).redis_url == ""
    assert settings_from(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0").redis_url.startswith(
        "redis://"
    )


def test_the_embedded_worker_runs_on_sqlite_and_not_on_postgresql_unless_asked(
    tmp_path: Path,
) -> None:
    assert settings_from(tmp_path).embedded_worker
    postgres = {"DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}
    assert not settings_from(tmp_path, **postgres).embedded_worker
    assert settings_from(tmp_path, EMBEDDED_WORKER="true", **postgres).embedded_worker


def test_behind_pgbouncer_asyncpg_prepares_no_statements(
    tmp_path: Path, requires_postgres: str
) -> None:
    from piccolo.engine.postgres import PostgresEngine

    from nuanxin.db import engine_for

    settings = settings_from(
        tmp_path, DATABASE_URL=requires_postgres, DATABASE_STATEMENT_CACHE_SIZE="0"
    )
    built = engine_for(settings)
    assert isinstance(built, PostgresEngine)
    assert built.config["statement_cache_size"] == 0
