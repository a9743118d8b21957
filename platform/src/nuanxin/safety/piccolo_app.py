"""The Piccolo app of the heating-safety area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.safety.tables import ColdSpell, FollowUp, SafetyCheck

APP_CONFIG = AppConfig(
    app_name="safety",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[SafetyCheck, FollowUp, ColdSpell],
    migration_dependencies=[
        "nuanxin.regions.piccolo_app",
        "nuanxin.accounts.piccolo_app",
        "nuanxin.households.piccolo_app",
        "nuanxin.deliveries.piccolo_app",
    ],
    commands=[],
)
