"""A carbon-monoxide alarm (一氧化碳报警器) joins the item catalogue.

Coal stoves bring a risk of carbon-monoxide poisoning; local campaigns install alarms for the
households that heat with coal or a stove (see ``households.needs``). Inserted only when the
code is missing, so it is harmless on a database that has it already; plain ``INSERT``s through
a table of this migration's own, on SQLite and PostgreSQL alike.
"""

from piccolo.columns import JSON, Serial, Varchar
from piccolo.table import Table

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a carbon-monoxide alarm in the item catalogue"

# code, kind, name_zh, name_en, unit_zh, unit_en, requires (household tags: none, it runs on
# batteries)
CO_ALARM = ("co_alarm", "co_alarm", "一氧化碳报警器", "Carbon monoxide alarm", "个", "alarm", [])


class Item(Table, tablename="item", schema=None):
    id = Serial(primary_key=True)
    code = Varchar(length=32, unique=True)
    kind = Varchar(length=20)
    name_zh = Varchar(length=50)
    name_en = Varchar(length=80)
    unit_zh = Varchar(length=10)
    unit_en = Varchar(length=20)
    requires = JSON(default=[])


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="offers", description=DESCRIPTION)

    async def add_co_alarm():
        code, kind, name_zh, name_en, unit_zh, unit_en, requires = CO_ALARM
        if not await Item.exists().where(Item.code == code).run():
            await Item.insert(
                Item(
                    code=code,
                    kind=kind,
                    name_zh=name_zh,
                    name_en=name_en,
                    unit_zh=unit_zh,
                    unit_en=unit_en,
                    requires=requires,
                )
            ).run()

    manager.add_raw(add_co_alarm)

    return manager
