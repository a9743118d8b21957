"""The Piccolo app of the rounds area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.rounds.tables import MatchingRound, Proposal

APP_CONFIG = AppConfig(
    app_name="rounds",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[MatchingRound, Proposal],
    migration_dependencies=[
        "nuanxin.households.piccolo_app",
        "nuanxin.offers.piccolo_app",
        "nuanxin.accounts.piccolo_app",
        "nuanxin.regions.piccolo_app",
    ],
    commands=[],
)
