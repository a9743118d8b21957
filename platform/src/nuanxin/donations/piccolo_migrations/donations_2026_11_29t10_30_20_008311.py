from nuanxin.db import engine
from nuanxin.migrations import MigrationManager

ID = "2026-11-29T10:30:20:008311"
VERSION = "1.38.0"
DESCRIPTION = "unique index on the donation form key"

# A unique index rather than a constraint: SQLite can add one to an existing table, and the
# NULL keys of donations made without a form key never collide, on SQLite and PostgreSQL alike.
CREATE = "CREATE UNIQUE INDEX IF NOT EXISTS donation_form_key_unique ON donation (form_key)"
DROP = "DROP INDEX IF EXISTS donation_form_key_unique"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="donations", description=DESCRIPTION)

    async def create_index():
        await engine().run_ddl(CREATE)

    async def drop_index():
        await engine().run_ddl(DROP)

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)

    return manager
