"""Which point of the household a proposal's distance was measured to."""

from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T08:50:06:635404"
VERSION = "1.38.0"
DESCRIPTION = "proposals say which point they used"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="rounds", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Proposal",
        tablename="proposal",
        column_name="location_source",
        db_column_name="location_source",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 10,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
