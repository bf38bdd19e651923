"""`clarion campaigns`: list, activate, stop, run (with a progress bar) and report,
against a running server (CLARION_URL, CLARION_API_KEY)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clarion.cli.common import UrlOption, client, console, fail_response

app = typer.Typer(help="Action and API-triggered campaigns.", no_args_is_help=True)
FINAL = ("completed", "stopped", "failed")


def _path(name: str, *parts: str) -> str:
    return "/".join(["/v1/campaigns", quote(name, safe=""), *parts])


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        fail_response(response)
    return response.json()


@app.command("list")
def list_(url: str | None = UrlOption) -> None:
    """The workspace's campaigns and their status."""
    with client(url) as http:
        items = _ok(http.get("/v1/campaigns", params={"limit": 1000}))["items"]
    table = Table("name", "type", "status", "version", "next run")
    for item in items:
        table.add_row(
            item["name"],
            item["type"],
            item["status"],
            str(item["version"]),
            str(item["next_run_at"] or ""),
        )
    console.print(table)


@app.command("activate")
def activate(name: str, url: str | None = UrlOption) -> None:
    """Pin the current version and schedule it (or send now, without a schedule)."""
    with client(url) as http:
        found = _ok(http.post(_path(name, "activate")))
    console.print(f"{found['name']}: {found['status']} (next run {found['next_run_at']})")


@app.command("stop")
def stop(name: str, url: str | None = UrlOption) -> None:
    """Stop the schedule and any run in progress."""
    with client(url) as http:
        found = _ok(http.post(_path(name, "stop")))
    console.print(f"{found['name']}: {found['status']}")


def _counts_table(counts: dict[str, Any]) -> Table:
    table = Table("count", "value")
    for key in ("targeted", "excluded", "recipients", "sent", "failed", "skipped", "pending"):
        table.add_row(key, str(counts.get(key, 0)))
    for reason, n in counts.get("skipped_by_reason", {}).items():
        table.add_row(f"  skipped: {reason}", str(n))
    for key in ("delivered", "opened", "clicked"):
        table.add_row(key, str(counts.get(key, 0)))
    return table


@app.command("run")
def run(
    name: str,
    url: str | None = UrlOption,
    wait: bool = typer.Option(True, help="follow the run until it ends"),
    poll: float = typer.Option(0.5, help="seconds between progress updates"),
) -> None:
    """Run an action campaign now and follow it with a progress bar."""
    with client(url) as http:
        started = _ok(http.post(_path(name, "runs")))
        console.print(f"run {started['id']} of {name} started")
        if not wait:
            return
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            queued = progress.add_task("queued", total=None)
            done = progress.add_task("delivered to the pipeline", total=None)
            while True:
                current = _ok(http.get(_path(name, "runs", started["id"])))
                counts = current["counts"]
                total = counts["recipients"] or None
                finished = counts["sent"] + counts["failed"] + counts["skipped"]
                finished -= sum(
                    n
                    for reason, n in counts["skipped_by_reason"].items()
                    if reason in ("time_limit", "local_time_passed", "stopped")
                )
                progress.update(queued, total=total, completed=counts["queued"])
                progress.update(done, total=total, completed=finished)
                if current["status"] in FINAL:
                    break
                time.sleep(poll)
    console.print(f"run {current['id']}: {current['status']}")
    console.print(_counts_table(counts))


@app.command("report")
def report(name: str, url: str | None = UrlOption) -> None:
    """Totals over the campaign's runs."""
    with client(url) as http:
        found = _ok(http.get(_path(name, "report")))
    console.print(f"{found['campaign']['name']} ({found['status']})")
    console.print(_counts_table(found["totals"]))
