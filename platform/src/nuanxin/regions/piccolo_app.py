"""The Piccolo app of the regions area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.regions.tables import GeocodeCache, Region

APP_CONFIG = AppConfig(
    app_name="regions",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Region, GeocodeCache],
    migration_dependencies=[],
    commands=[],
)
