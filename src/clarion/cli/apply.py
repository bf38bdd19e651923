"""`clarion apply -f FILE`: send definition documents to a running server."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
import yaml
from rich.table import Table

from clarion.cli.common import UrlOption, client, console, fail, fail_response
from clarion.documents.yaml_loader import load_documents


def _read(files: list[Path]) -> list[object]:
    documents: list[object] = []
    for path in files:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
        try:
            documents.extend(load_documents(text))
        except yaml.YAMLError as exc:
            fail(f"{path}: not valid YAML: {exc}")
    return documents


def apply(
    files: list[Path] = typer.Option(..., "--file", "-f", help="YAML file(s); - for stdin"),
    url: str | None = UrlOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="validate only"),
) -> None:
    """Validate and apply documents all-or-nothing; print what changed."""
    documents = _read(files)
    if not documents:
        fail("no documents in the given files")
    with client(url) as http:
        response = http.post("/v1/apply", params={"dry_run": dry_run}, json=documents)
    if response.status_code != 200:
        fail_response(response)
    table = Table("kind", "name", "action", "version")
    for result in response.json()["results"]:
        table.add_row(result["kind"], result["name"], result["action"], str(result["version"]))
    console.print(table)
