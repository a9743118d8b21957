"""The Piccolo app of the offers area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.offers.tables import Item, Offer

APP_CONFIG = AppConfig(
    app_name="offers",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Item, Offer],
    migration_dependencies=[
        "nuanxin.accounts.piccolo_app",
    ],
    commands=[],
)
