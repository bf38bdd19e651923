"""Creating a workspace with its first keys."""

from __future__ import annotations

from dataclasses import dataclass

from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import Workspace
from clarion.storage.base import Database
from clarion.workspaces.keys import issue_key


@dataclass(frozen=True, slots=True)
class NewWorkspace:
    """A created workspace and the tokens of its first two keys (shown once)."""

    workspace: Workspace
    write_key: str
    secret_key: str

    def as_json(self) -> dict[str, str]:
        return {
            "id": self.workspace.id,
            "name": self.workspace.name,
            "write_key": self.write_key,
            "secret_key": self.secret_key,
        }


def create_workspace(db: Database, clock: Clock, name: str) -> NewWorkspace:
    """Create a workspace with a public write key and an admin secret key."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a workspace name is 1 to 200 characters", field="name")
    now = clock.now()
    with db.write() as tx:
        workspace = tx.workspaces.create(name, now)
        write = issue_key(tx, workspace.id, KeyKind.WRITE, None, "default write key", now)
        secret = issue_key(tx, workspace.id, KeyKind.SECRET, Role.ADMIN, "admin", now)
        tx.signing_key(workspace.id)  # made now, so that reads never have to create it
    return NewWorkspace(workspace, write.token, secret.token)
