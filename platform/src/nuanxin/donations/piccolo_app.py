"""The Piccolo app of the donations area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.donations.tables import Campaign, Donation, Payment, Purchase, WebhookEvent

APP_CONFIG = AppConfig(
    app_name="donations",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Campaign, Donation, Payment, WebhookEvent, Purchase],
    migration_dependencies=[
        "nuanxin.offers.piccolo_app",
        "nuanxin.advice.piccolo_app",
        "nuanxin.accounts.piccolo_app",
        "nuanxin.regions.piccolo_app",
    ],
    commands=[],
)
