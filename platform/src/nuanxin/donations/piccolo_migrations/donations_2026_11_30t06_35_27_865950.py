from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from nuanxin.migrations import MigrationManager


class PurchaseAdvice(Table, tablename="purchase_advice", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name=None,
        secret=False,
    )


ID = "2026-11-30T06:35:27:865950"
VERSION = "1.38.0"
DESCRIPTION = "a purchase links the advice it followed"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="donations", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Purchase",
        tablename="purchase",
        column_name="advice",
        db_column_name="advice",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": PurchaseAdvice,
            "on_delete": OnDelete.restrict,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": True,
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
