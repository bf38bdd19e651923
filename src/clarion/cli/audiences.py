"""`clarion audiences count FILE.yaml`: the exact count of a definition, from the database."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
import yaml

from clarion.audiences import AudienceCompileError, count
from clarion.audiences.kind import TxResolver
from clarion.cli.common import DbOption, database, err_console, fail
from clarion.clock import SystemClock
from clarion.model.audience import InvalidAudience, parse_definition
from clarion.storage.base import Page
from clarion.storage.sql import SqlDatabase

app = typer.Typer(help="Audience counts.", no_args_is_help=True)

WorkspaceOption = typer.Option(
    None, "--workspace", "-w", help="workspace id or name (default: the only one)"
)


def _definition(path: Path) -> Any:
    """The definition in FILE: a `kind: audience` document or a bare definition tree."""
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        fail(f"{path}: {exc}")
    if isinstance(loaded, dict) and "definition" in loaded:
        loaded = loaded["definition"]
    try:
        return parse_definition(loaded)
    except InvalidAudience as exc:
        fail(f"{path}: at {exc.field or 'definition'}: {exc.message}")


def _workspace(db: SqlDatabase, wanted: str | None) -> str:
    with db.read() as tx:
        workspaces = tx.workspaces.list(Page(limit=10_000))
    if wanted is None:
        if len(workspaces) != 1:
            fail(f"{len(workspaces)} workspaces: name one with --workspace")
        return workspaces[0].id
    for ws in workspaces:
        if wanted in (ws.id, ws.name):
            return ws.id
    fail(f"no workspace {wanted!r}")
    raise AssertionError  # fail exits


@app.command("count")
def count_command(
    file: Path = typer.Argument(..., help="YAML: a kind: audience document or a definition"),
    workspace: str | None = WorkspaceOption,
    db: str | None = DbOption,
    at: datetime | None = typer.Option(
        None, "--at", help="count as of this ISO 8601 instant (default: now)"
    ),
) -> None:
    """Print the exact number of profiles the definition selects now (or --at)."""
    definition = _definition(file)
    store = database(db)
    workspace_id = _workspace(store, workspace)
    started = time.perf_counter()
    with store.read() as tx:
        try:
            found = count(
                tx.conn,
                definition,
                workspace_id=workspace_id,
                now=at.replace(tzinfo=at.tzinfo or UTC) if at else SystemClock().now(),
                resolver=TxResolver(tx, workspace_id),
            )
        except AudienceCompileError as exc:
            fail(str(exc))
    typer.echo(found)
    err_console.print(f"[dim]counted in {time.perf_counter() - started:.2f}s[/dim]")
