"""`clarion workspaces`: create and list workspaces directly in the database."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from clarion.cli.common import DbOption, console, database
from clarion.clock import SystemClock
from clarion.storage.base import Page
from clarion.workspaces import create_workspace

app = typer.Typer(help="Create and list workspaces.", no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Create a workspace and print its write key and an admin secret key (shown once)."""
    created = create_workspace(database(db), SystemClock(), name)
    if as_json:
        typer.echo(json.dumps(created.as_json()))
        return
    console.print(f"Workspace [bold]{created.workspace.name}[/bold] ({created.workspace.id})")
    console.print(f"  write key  (public, ingestion only): {created.write_key}")
    console.print(f"  secret key (admin, keep it safe):    {created.secret_key}")


@app.command("list")
def list_(
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="print a JSON array"),
) -> None:
    """List workspaces."""
    with database(db).read() as tx:
        rows = tx.workspaces.list(Page(limit=10_000))
    if as_json:
        typer.echo(json.dumps([{"id": w.id, "name": w.name} for w in rows]))
        return
    table = Table("id", "name", "created")
    for ws in rows:
        table.add_row(ws.id, ws.name, ws.created_at.isoformat())
    console.print(table)
