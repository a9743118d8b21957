"""The Piccolo app of the deadlines area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.deadlines.tables import DeadlineNotice

APP_CONFIG = AppConfig(
    app_name="deadlines",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[DeadlineNotice],
    migration_dependencies=[],
    commands=[],
)
