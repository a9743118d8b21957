"""The Piccolo app of the deliveries area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.deliveries.tables import (
    Allocation,
    ConfirmationKey,
    Delivery,
    DeliveryCase,
    OfflineReview,
    Visit,
)

APP_CONFIG = AppConfig(
    app_name="deliveries",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Allocation, Delivery, DeliveryCase, Visit, ConfirmationKey, OfflineReview],
    migration_dependencies=[
        "nuanxin.rounds.piccolo_app",
        "nuanxin.households.piccolo_app",
        "nuanxin.offers.piccolo_app",
        "nuanxin.accounts.piccolo_app",
    ],
    commands=[],
)
