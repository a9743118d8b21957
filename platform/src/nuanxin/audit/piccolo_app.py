"""The Piccolo app of the audit area."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from nuanxin.audit.tables import AuditEntry

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[AuditEntry],
    migration_dependencies=[
        "nuanxin.accounts.piccolo_app",
    ],
    commands=[],
)
