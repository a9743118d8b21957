"""The Piccolo app of the warehouses area.

The ``warehouse`` table was part of the accounts area until the areas were split; the accounts
app's first migration created it, and it still does: migrations are history, and rewriting
them would give existing databases and new ones different histories. So this app owns the
table class and has no migration of its own yet; the table's columns are exactly those that
migration creates (``tests/nuanxin/test_migrations.py`` compares the schema on SQLite and
PostgreSQL). A later change to the table is a migration of this app, depending on accounts.
Do not run ``piccolo migrations new accounts --auto`` or ``... warehouses --auto`` without
reading what they write: Piccolo's snapshot still places the table in the accounts app.
"""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.warehouses.tables import Warehouse

APP_CONFIG = AppConfig(
    app_name="warehouses",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Warehouse],
    migration_dependencies=[
        "nuanxin.accounts.piccolo_app",
    ],
    commands=[],
)
