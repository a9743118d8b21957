"""Each catalogue item's counting unit (``item.unit``): every existing item gets ``piece``.

The next migration sets coal's to ``bag_25kg`` (Piccolo runs a migration's raw steps before
its column changes, so the two cannot share one migration).
"""

from enum import Enum

from piccolo.columns import Varchar
from piccolo.columns.indexes import IndexMethod

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the item catalogue's counting units"

UNITS = Enum("Unit", {"piece": "piece", "bag_25kg": "bag_25kg", "kg": "kg", "t": "t"})


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="offers", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Item",
        tablename="item",
        column_name="unit",
        db_column_name="unit",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "piece",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": UNITS,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
