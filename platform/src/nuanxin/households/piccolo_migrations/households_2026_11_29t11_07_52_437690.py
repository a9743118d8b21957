"""One household per ID number: a unique index on the keyed hash.

The households service refuses a duplicate before saving; this index makes the database
refuse the second of two simultaneous registrations of the same person too (the app answers
409). A plain index, not a constraint, so that it is created the same way on SQLite and
PostgreSQL.
"""

from piccolo.engine.finder import engine_finder

from nuanxin.migrations import MigrationManager

ID = "2026-11-29T11:07:52:437690"
VERSION = "1.38.0"
DESCRIPTION = "one household per ID number"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="households", description=DESCRIPTION)

    async def create_index():
        engine = engine_finder()
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS household_id_hash_unique ON household (id_hash)"
        )

    async def drop_index():
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX IF EXISTS household_id_hash_unique")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
