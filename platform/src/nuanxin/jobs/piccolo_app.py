"""The Piccolo app of the jobs area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.jobs.tables import EmbeddedJob

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[EmbeddedJob],
    migration_dependencies=[],
    commands=[],
)
