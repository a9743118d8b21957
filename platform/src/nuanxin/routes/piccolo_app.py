"""The Piccolo app of the courier routes area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.routes.tables import CourierRoute, RouteStop

APP_CONFIG = AppConfig(
    app_name="routes",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[CourierRoute, RouteStop],
    migration_dependencies=[
        "nuanxin.accounts.piccolo_app",
        "nuanxin.warehouses.piccolo_app",
        "nuanxin.deliveries.piccolo_app",
    ],
    commands=[],
)
