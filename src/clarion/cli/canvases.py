"""`clarion canvases` and `clarion data`: calculate and run canvases, load entity rows,
against a running server (CLARION_URL, CLARION_API_KEY)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.cli.common import UrlOption, client, console, fail, fail_response

app = typer.Typer(help="Orchestrated campaigns: calculate and run canvases.", no_args_is_help=True)
data_app = typer.Typer(help="Rows of the relational schema's entities.", no_args_is_help=True)
FINAL = ("completed", "failed")


def _path(name: str, *parts: str) -> str:
    return "/".join(["/v1/canvases", quote(name, safe=""), *parts])


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        fail_response(response)
    return response.json()


def counts_table(found: dict[str, Any]) -> Table:
    """Rows per transition, and the eligible recipients of each channel activity."""
    table = Table("transition", "rows", "eligible recipients")
    eligible = found.get("eligible", {})
    for key, n in found.get("counts", {}).items():
        table.add_row(key, f"{n:,}", f"{eligible[key]:,}" if key in eligible else "")
    return table


def freshness_line(found: dict[str, Any]) -> str:
    """How current the profiles the counts read were."""
    fresh = found.get("freshness") or {}
    as_of = fresh.get("profiles_as_of")
    when = "live" if fresh.get("live") else f"as of {as_of}" if as_of else "never synced"
    last = f", newest event received {fresh['last_event_at']}" if fresh.get("last_event_at") else ""
    return f"profiles: {fresh.get('profiles')} ({when}{last})"


@app.command("calculate")
def calculate(name: str, url: str | None = UrlOption) -> None:
    """Exact counts on every transition (nothing is sent)."""
    with client(url) as http:
        found = _ok(http.post(_path(name, "calculate")))
    console.print(counts_table(found))
    console.print(freshness_line(found))


@app.command("run")
def run(
    name: str,
    url: str | None = UrlOption,
    fresh: bool = typer.Option(False, help="compute afresh instead of reusing the calculation"),
    poll: float = typer.Option(0.5, help="seconds between progress updates"),
) -> None:
    """Run a canvas and follow it with a progress bar until everything is queued."""
    with client(url) as http:
        started = _ok(http.post(_path(name, "run"), params={"reuse": not fresh}))
        console.print(f"run {started['id']} of {name} started")
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            tasks: dict[str, Any] = {}
            while True:
                current = _ok(http.get(_path(name, "runs", started["id"])))
                for activity, sending in current["sending"].items():
                    if activity not in tasks:
                        tasks[activity] = progress.add_task(f"{activity} queued", total=None)
                    progress.update(
                        tasks[activity], total=sending["total"], completed=sending["queued"]
                    )
                if current["status"] in FINAL:
                    break
                time.sleep(poll)
    console.print(f"run {current['id']}: {current['status']}")
    if current.get("error"):
        fail(current["error"])
    console.print(counts_table(current))
    console.print(freshness_line(current))


@data_app.command("load")
def load(
    entity: str,
    file: Path,
    url: str | None = UrlOption,
    append: bool = typer.Option(False, help="add and update by key instead of replacing"),
) -> None:
    """Load a CSV (with a header) or a JSON array of rows into an entity."""
    body = file.read_bytes()
    kind = "application/json" if file.suffix.lower() == ".json" else "text/csv"
    with client(url) as http:
        found = _ok(
            http.post(
                f"/v1/data/{quote(entity, safe='')}",
                content=body,
                params={"mode": "append" if append else "replace"},
                headers={"content-type": kind},
            )
        )
    console.print(f"{found['entity']}: {found['rows']:,} rows ({found['mode']})")
