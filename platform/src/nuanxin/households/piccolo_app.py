"""The Piccolo app of the households area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.households.tables import Escalation, Household, LocationSuggestion, Member, Need

APP_CONFIG = AppConfig(
    app_name="households",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Household, Member, Need, Escalation, LocationSuggestion],
    migration_dependencies=[
        "nuanxin.accounts.piccolo_app",
        "nuanxin.offers.piccolo_app",
        "nuanxin.regions.piccolo_app",
    ],
    commands=[],
)
