"""The Piccolo app of the purchase advice area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.advice.tables import PurchaseAdvice, PurchasePrice

APP_CONFIG = AppConfig(
    app_name="advice",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[PurchasePrice, PurchaseAdvice],
    migration_dependencies=[
        "nuanxin.offers.piccolo_app",
        "nuanxin.accounts.piccolo_app",
        "nuanxin.regions.piccolo_app",
    ],
    commands=[],
)
