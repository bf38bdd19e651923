"""Storage: the interfaces engines use, the schema, migrations and erasure hooks.

Engines import `clarion.storage.base` (interfaces); only the composition roots
(`api`, `cli`, `web`) import the concrete backends of `clarion.storage.sql`.
"""

from clarion.storage.base import (
    Appended,
    ConsumerBatch,
    Database,
    DocumentRepo,
    EventLog,
    KeyRepo,
    Page,
    Tx,
    WorkspaceRepo,
)

__all__ = [
    "Appended",
    "ConsumerBatch",
    "Database",
    "DocumentRepo",
    "EventLog",
    "KeyRepo",
    "Page",
    "Tx",
    "WorkspaceRepo",
]
