"""The embedded queue of the SQLite demo (PostgreSQL uses Procrastinate's own tables)."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class EmbeddedJob(Table, tablename="embedded_job"):
    """One deferred call of a task, run by the app's own embedded worker."""

    id = Serial(primary_key=True)
    task = Varchar(length=64)  # a TaskName
    args = JSON(default={})
    status = Varchar(length=16, index=True)  # an EmbeddedStatus
    attempts = Integer(default=0)
    error = Text(default="")
    created_at = Timestamptz()
