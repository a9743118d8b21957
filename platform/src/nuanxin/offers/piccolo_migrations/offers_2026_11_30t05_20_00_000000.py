"""The item catalogue: coal, coats by size, quilts, electric blankets, stoves.

Inserts the catalogue items that are missing (by code), so it is harmless on a database
whose catalogue was seeded before; it never changes or deletes an existing item. Plain
``INSERT``s through a table of this migration's own, on SQLite and PostgreSQL alike.
"""

from piccolo.columns import JSON, Serial, Varchar
from piccolo.table import Table

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T05:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seed the item catalogue"

# code, kind, name_zh, name_en, unit_zh, unit_en, requires (household tags)
CATALOGUE = (
    (
        "coal",
        "coal",
        "取暖煤（25公斤袋装）",
        "Heating coal, 25 kg bag",
        "袋",
        "bag",
        ["coal_stove"],
    ),
    (
        "coat_adult_s",
        "coat_adult",
        "成人棉衣（S码）",
        "Adult cotton coat, size S",
        "件",
        "piece",
        [],
    ),
    (
        "coat_adult_m",
        "coat_adult",
        "成人棉衣（M码）",
        "Adult cotton coat, size M",
        "件",
        "piece",
        [],
    ),
    (
        "coat_adult_l",
        "coat_adult",
        "成人棉衣（L码）",
        "Adult cotton coat, size L",
        "件",
        "piece",
        [],
    ),
    (
        "coat_adult_xl",
        "coat_adult",
        "成人棉衣（XL码）",
        "Adult cotton coat, size XL",
        "件",
        "piece",
        [],
    ),
    (
        "coat_adult_xxl",
        "coat_adult",
        "成人棉衣（XXL码）",
        "Adult cotton coat, size XXL",
        "件",
        "piece",
        [],
    ),
    (
        "coat_child_110",
        "coat_child",
        "儿童棉衣（110码）",
        "Child cotton coat, size 110",
        "件",
        "piece",
        [],
    ),
    (
        "coat_child_130",
        "coat_child",
        "儿童棉衣（130码）",
        "Child cotton coat, size 130",
        "件",
        "piece",
        [],
    ),
    (
        "coat_child_150",
        "coat_child",
        "儿童棉衣（150码）",
        "Child cotton coat, size 150",
        "件",
        "piece",
        [],
    ),
    ("quilt", "quilt", "棉被", "Cotton quilt", "床", "quilt", []),
    (
        "electric_blanket",
        "electric_blanket",
        "电热毯",
        "Electric blanket",
        "条",
        "blanket",
        ["electricity"],
    ),
    ("stove", "stove", "取暖炉具", "Heating stove", "台", "stove", []),
)


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

    async def seed_catalogue():
        existing = {row["code"] for row in await Item.select(Item.code).run()}
        missing = [row for row in CATALOGUE if row[0] not in existing]
        if missing:
            await Item.insert(
                *(
                    Item(
                        code=code,
                        kind=kind,
                        name_zh=name_zh,
                        name_en=name_en,
                        unit_zh=unit_zh,
                        unit_en=unit_en,
                        requires=requires,
                    )
                    for code, kind, name_zh, name_en, unit_zh, unit_en, requires in missing
                )
            ).run()

    manager.add_raw(seed_catalogue)

    return manager
