"""Every delivery made before visits existed gets a visit of its own.

Each such delivery becomes a one-item visit with its status and wrong-code count. Codes
printed before were stored unkeyed: they cannot be checked against a keyed hash, so an open
visit starts with no code and staff print its slip again. Plain reads and writes through
this migration's own tables, on SQLite and PostgreSQL alike; harmless when run on a
database whose deliveries all have a visit.
"""

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T06:00:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "a visit for every delivery"


class Visit(Table, tablename="visit"):
    id = Serial(primary_key=True)
    household = Integer()
    organization = Integer()
    status = Varchar(length=10)
    failed_attempts = Integer(default=0)
    printed_count = Integer(default=0)
    created_at = Timestamptz()


class Allocation(Table, tablename="allocation"):
    id = Serial(primary_key=True)
    household = Integer()


class Delivery(Table, tablename="delivery"):
    id = Serial(primary_key=True)
    allocation = ForeignKey(Allocation)
    organization = Integer()
    status = Varchar(length=10)
    failed_attempts = Integer(default=0)
    visit = Integer(null=True)
    created_at = Timestamptz()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="deliveries", description=DESCRIPTION)

    async def give_each_delivery_a_visit():
        rows = (
            await Delivery.select(
                Delivery.id,
                Delivery.allocation._.household,
                Delivery.organization,
                Delivery.status,
                Delivery.failed_attempts,
                Delivery.created_at,
            )
            .where(Delivery.visit.is_null())
            .order_by(Delivery.id)
            .run()
        )
        for row in rows:
            made = (
                await Visit.insert(
                    Visit(
                        household=row["allocation.household"],
                        organization=row["organization"],
                        status=row["status"],
                        failed_attempts=row["failed_attempts"],
                        printed_count=0,
                        created_at=row["created_at"],
                    )
                )
                .returning(Visit.id)
                .run()
            )
            await (
                Delivery.update({Delivery.visit: made[0]["id"]})
                .where(Delivery.id == row["id"])
                .run()
            )

    manager.add_raw(give_each_delivery_a_visit)
    return manager
