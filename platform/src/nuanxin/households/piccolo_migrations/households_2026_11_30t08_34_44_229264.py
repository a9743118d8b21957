"""Where a household's point came from: a pin, a courier's accepted position, the township's or
the county's centre. Rows already there say ``county``, the point the region gave them.
"""

from enum import Enum

from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T08:34:44:229264"
VERSION = "1.38.0"
DESCRIPTION = "households: where the point came from"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="households", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Household",
        tablename="household",
        column_name="location_source",
        db_column_name="location_source",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 10,
            "default": "county",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum(
                "LocationSource",
                {
                    "pin": "pin",
                    "courier": "courier",
                    "township": "township",
                    "county": "county",
                },
            ),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
