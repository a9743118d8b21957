"""The Piccolo app of the help_requests area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.help_requests.tables import HelpRequest

APP_CONFIG = AppConfig(
    app_name="help_requests",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[HelpRequest],
    migration_dependencies=[
        "nuanxin.households.piccolo_app",
        "nuanxin.accounts.piccolo_app",
        "nuanxin.regions.piccolo_app",
    ],
    commands=[],
)
