"""`clarion serve`: the API, UI and workers in one process."""

from __future__ import annotations

import typer
import uvicorn

from clarion.api.app import create_app
from clarion.cli.common import DbOption, console, settings
from clarion.processing.heap import settle_heap


def serve(
    db: str | None = DbOption,
    host: str | None = typer.Option(None, help="interface to listen on (default 127.0.0.1)"),
    port: int | None = typer.Option(None, help="port to listen on (default 8000)"),
    access_log: bool | None = typer.Option(
        None,
        "--access-log/--no-access-log",
        help="log every HTTP request (default on; CLARION_ACCESS_LOG)",
    ),
) -> None:
    """Run Clarion (embedded mode: one process, SQLite by default)."""
    config = settings(database_url=db, host=host, port=port, access_log=access_log)
    app = create_app(config)
    console.print(
        f"Clarion {app.version} on http://{config.host}:{config.port} "
        f"(database {config.database_url})"
    )
    settle_heap()
    uvicorn.run(
        app, host=config.host, port=config.port, log_level="info", access_log=config.access_log
    )
