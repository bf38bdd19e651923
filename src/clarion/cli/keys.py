"""`clarion keys`: create, list and revoke a workspace's keys in the database."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from clarion.cli.common import DbOption, console, database, fail
from clarion.clock import SystemClock
from clarion.model.roles import KeyKind, Role
from clarion.storage.base import Page
from clarion.workspaces import issue_key

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
WorkspaceOption = typer.Option(..., "--workspace", "-w", help="workspace id")


@app.command("create")
def create(
    name: str,
    workspace: str = WorkspaceOption,
    kind: KeyKind = typer.Option(KeyKind.SECRET, help="secret (API) or write (ingestion)"),
    role: Role = typer.Option(Role.VIEWER, help="role of a secret key"),
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a key and print its token (shown once)."""
    store = database(db)
    with store.write() as tx:
        if tx.workspaces.get(workspace) is None:
            fail(f"no workspace {workspace!r}")
        issued = issue_key(tx, workspace, kind, role, name, SystemClock().now())
    if as_json:
        typer.echo(
            json.dumps({"id": issued.key.id, "prefix": issued.key.prefix, "token": issued.token})
        )
    else:
        console.print(f"{issued.key.kind.value} key {issued.key.id}: {issued.token}")


@app.command("list")
def list_(
    workspace: str = WorkspaceOption,
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="print a JSON array"),
) -> None:
    """List a workspace's keys (prefixes only)."""
    with database(db).read() as tx:
        rows = tx.keys.list(workspace, Page(limit=10_000))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": k.id,
                        "name": k.name,
                        "kind": k.kind.value,
                        "role": k.role.value if k.role else None,
                        "prefix": k.prefix,
                        "revoked": k.revoked_at is not None,
                    }
                    for k in rows
                ]
            )
        )
        return
    table = Table("id", "name", "kind", "role", "prefix", "revoked")
    for key in rows:
        table.add_row(
            key.id,
            key.name,
            key.kind.value,
            key.role.value if key.role else "",
            key.prefix,
            key.revoked_at.isoformat() if key.revoked_at else "",
        )
    console.print(table)


@app.command("revoke")
def revoke(key_id: str, workspace: str = WorkspaceOption, db: str | None = DbOption) -> None:
    """Revoke a key."""
    with database(db).write() as tx:
        if not tx.keys.revoke(workspace, key_id, SystemClock().now()):
            fail(f"no active key {key_id!r} in workspace {workspace!r}")
    console.print(f"revoked {key_id}")
