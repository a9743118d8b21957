"""One open, unprinted visit per household and charity, enforced by the database.

Two approvals at once for the same household and charity each looked for the open visit, found
none and started one: the household got two slips and two codes for one trip. A partial unique
index makes the second insert a no-op (the service then joins the first visit). Visits that
already doubled up are merged first: the later visit's item lines move to the earliest one and
the later, empty visit is deleted (none of them has a slip yet, so no code is lost).
"""

from nuanxin.migrations import MigrationManager

ID = "2026-11-30T08:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one open, unprinted visit per household and charity"

OPEN = "status = 'pending' AND printed_count = 0"
OPEN_V2 = "status = 'pending' AND v2.printed_count = 0"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="deliveries", description=DESCRIPTION)

    async def run():
        from piccolo.engine.finder import engine_finder

        engine = engine_finder()
        await engine.run_ddl(
            "UPDATE delivery SET visit = (SELECT MIN(v2.id) FROM visit v2, visit v1"
            " WHERE v1.id = delivery.visit AND v2.household = v1.household"
            f" AND v2.organization = v1.organization AND v2.{OPEN_V2})"
            f" WHERE visit IN (SELECT id FROM visit WHERE {OPEN})"
        )
        await engine.run_ddl(
            f"DELETE FROM visit WHERE {OPEN}"
            " AND NOT EXISTS (SELECT 1 FROM delivery WHERE delivery.visit = visit.id)"
            " AND EXISTS (SELECT 1 FROM visit v2 WHERE v2.household = visit.household"
            f" AND v2.organization = visit.organization AND v2.{OPEN_V2} AND v2.id < visit.id)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS visit_one_open_per_pair"
            f" ON visit (household, organization) WHERE {OPEN}"
        )

    async def undo():
        from piccolo.engine.finder import engine_finder

        await engine_finder().run_ddl("DROP INDEX IF EXISTS visit_one_open_per_pair")

    manager.add_raw(run)
    manager.add_raw_backwards(undo)
    return manager
