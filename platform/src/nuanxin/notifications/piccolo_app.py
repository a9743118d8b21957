"""The Piccolo app of the notifications area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.notifications.tables import Appointment, Notification, NotificationPreference

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Notification, NotificationPreference, Appointment],
    migration_dependencies=[
        "nuanxin.accounts.piccolo_app",
        "nuanxin.deliveries.piccolo_app",
    ],
    commands=[],
)
