"""Helpers shared by CLI commands: settings, database, server client, output."""

from __future__ import annotations

from typing import Any

import httpx
import typer
from rich.console import Console

from clarion.api.app import open_database
from clarion.config import Settings, load_settings
from clarion.storage.sql import SqlDatabase

console = Console()
err_console = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="database URL (default: CLARION_DATABASE_URL)")
UrlOption = typer.Option(None, "--url", help="server URL (default: CLARION_URL)")


def settings(**overrides: Any) -> Settings:
    return load_settings(**overrides)


def database(db_url: str | None) -> SqlDatabase:
    """The configured database, migrated."""
    return open_database(settings(database_url=db_url).database_url)


def client(url: str | None) -> httpx.Client:
    """An HTTP client for a running server, authenticated with CLARION_API_KEY."""
    config = settings(url=url)
    if config.api_key is None:
        fail("set CLARION_API_KEY to a secret key of the workspace")
    assert config.api_key is not None
    return httpx.Client(
        base_url=config.url,
        headers={"Authorization": f"Bearer {config.api_key.get_secret_value()}"},
        timeout=60,
    )


def fail(message: str, code: int = 1) -> None:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def fail_response(response: httpx.Response) -> None:
    """Report an error answer from the server and exit."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {"message": response.text}
    err_console.print(f"[red]error {response.status_code}:[/red] {error.get('message')}")
    for problem in error.get("problems", []):
        where = f"document {problem.get('document')} ({problem.get('kind')}/{problem.get('name')})"
        err_console.print(f"  {where} {problem.get('path') or '/'}: {problem.get('message')}")
    raise typer.Exit(1)
