"""`clarion`: serve, version, workspaces, keys, apply."""

from __future__ import annotations

import typer

import clarion
from clarion.cli import (
    apply,
    audiences,
    campaigns,
    canvases,
    dispatchers,
    keys,
    serve,
    vapid,
    worker,
    workspaces,
)

app = typer.Typer(
    name="clarion", help="Clarion customer engagement orchestrator.", no_args_is_help=True
)
app.command("serve")(serve.serve)
app.command("apply")(apply.apply)
app.command("worker")(worker.worker)
app.command("dispatcher")(dispatchers.dispatcher)
app.command("vapid-keys")(vapid.vapid_keys)
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(keys.app, name="keys")
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(canvases.app, name="canvases")
app.add_typer(canvases.data_app, name="data")
app.add_typer(audiences.app, name="audiences")


@app.command("version")
def version() -> None:
    """Print Clarion's version."""
    typer.echo(clarion.__version__)


def main() -> None:
    app()
