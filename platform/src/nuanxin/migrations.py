"""A Piccolo ``MigrationManager`` whose new tables carry their constraints inline.

Piccolo creates a table and then adds each ``Check``/``Unique`` constraint with
``ALTER TABLE ... ADD CONSTRAINT``, which SQLite does not support. Declaring them inside
``CREATE TABLE`` works on SQLite and PostgreSQL alike, so both engines get the same schema
from the same migration files. Every migration of this project imports this class.

Adding a constraint to an existing table later needs a table rebuild on SQLite: this
manager refuses it there with a clear message rather than half-applying the migration.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import (
    MigrationManager as PiccoloMigrationManager,
)
from piccolo.engine.finder import engine_finder
from piccolo.query.methods.alter import AddConstraint
from piccolo.table import Table, create_table_class, sort_table_classes

__all__ = ("MigrationManager", "create_table_ddl")


def create_table_ddl(table: type[Table]) -> list[str]:
    """``CREATE TABLE`` with inline constraints, then its indexes."""
    statements = [str(statement) for statement in table.create_table().ddl]
    create, rest = statements[0], statements[1:]
    inline = [
        f"CONSTRAINT {constraint._meta.name} {constraint.ddl}"
        for constraint in table._meta.constraints
    ]
    if inline:
        if not create.endswith(")"):  # pragma: no cover - Piccolo's DDL shape changed
            raise RuntimeError(f"unexpected CREATE TABLE statement: {create}")
        create = create[:-1] + ", " + ", ".join(inline) + ")"
    added = [AddConstraint(constraint=c).ddl for c in table._meta.constraints]
    kept = [s for s in rest if not any(s.endswith(a) for a in added)]
    return [create, *kept]


class MigrationManager(PiccoloMigrationManager):
    """Piccolo's manager, creating new tables with their constraints inline."""

    async def _run_add_tables(self, backwards: bool = False) -> None:
        if backwards:
            await super()._run_add_tables(backwards=True)
            return
        table_classes: list[type[Table]] = []
        for add_table in self.add_tables:
            members: dict[str, Any] = {
                add_column.column._meta.name: add_column.column
                for add_column in self.add_columns.for_table_class_name(add_table.class_name)
            }
            table_class: type[Table] = create_table_class(
                class_name=add_table.class_name,
                class_kwargs={"tablename": add_table.tablename, "schema": add_table.schema},
                class_members=members,
            )
            table_class._meta.constraints.extend(
                self.add_constraints.constraints_for_table_class_name(add_table.class_name)
            )
            table_classes.append(table_class)
        engine = engine_finder()
        if engine is None:  # pragma: no cover
            raise RuntimeError("Piccolo found no engine")
        for table_class in sort_table_classes(table_classes):
            for statement in create_table_ddl(table_class):
                await engine.run_ddl(statement)

    async def _run_add_constraints(self, backwards: bool = False) -> None:
        engine = engine_finder()
        new_tables = {t.class_name for t in self.add_tables}
        pending = [
            name for name in self.add_constraints.table_class_names if name not in new_tables
        ]
        if engine is not None and engine.engine_type == "sqlite" and pending and not backwards:
            raise RuntimeError(
                f"SQLite cannot add a constraint to the existing table(s) {pending}: "
                "write this migration as a table rebuild"
            )
        await super()._run_add_constraints(backwards=backwards)
