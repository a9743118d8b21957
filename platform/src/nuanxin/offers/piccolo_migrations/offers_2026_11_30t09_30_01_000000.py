"""Coal is counted in 25 kg bags: its catalogue item's ``unit`` becomes ``bag_25kg``.

Stock, needs and allocations of coal were always counted in 25 kg bags, so no quantity
changes: the column now says what they are counted in. Items of other kinds keep ``piece``.
A plain ``UPDATE`` through a table of this migration's own, on SQLite and PostgreSQL alike.
"""

from piccolo.columns import Serial, Varchar
from piccolo.table import Table

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T09:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "coal is counted in 25 kg bags"

#: The counting unit of each kind that is not counted in pieces.
COUNTED_BY_KIND = {"coal": "bag_25kg"}


class Item(Table, tablename="item", schema=None):
    id = Serial(primary_key=True)
    kind = Varchar(length=20)
    unit = Varchar(length=16, default="piece")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="offers", description=DESCRIPTION)

    async def set_counting_units():
        for kind, unit in COUNTED_BY_KIND.items():
            await Item.update({Item.unit: unit}).where(Item.kind == kind).run()

    manager.add_raw(set_counting_units)

    return manager
