"""The Piccolo app of the accounts area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.accounts.tables import ApiToken, Organization, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Organization, User, ApiToken],
    migration_dependencies=[
        "nuanxin.regions.piccolo_app",
    ],
    commands=[],
)
