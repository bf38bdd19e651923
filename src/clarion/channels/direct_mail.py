"""Direct mail: per run, a CSV and a Parquet extract of recipients, for a print house.

The address comes from the profile (the Segment spec's `traits.address`
object, or top-level traits) and is validated before anything is rendered:
street, city, postal code and country are required, so an incomplete address
is skipped with a reason naming what is missing. The provider (settings:
`folder`) keeps each message's row and rewrites the run's two files after
every batch: `<folder>/<workspace>/<run>.csv` and `.parquet`, with address
columns first, then the template's rendered `fields`; the run records both
paths and its row count.
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

from clarion.channels.base import RenderedMessage, SendResult, SendStatus
from clarion.model.errors import InvalidInput

ADDRESS_COLUMNS = ("name", "street", "street2", "city", "state", "postal_code", "country")
REQUIRED = ("street", "city", "postal_code", "country")
_ALIASES = {
    "street": ("street", "line1", "address_line1", "street1"),
    "street2": ("street2", "line2", "address_line2"),
    "city": ("city", "locality"),
    "state": ("state", "region", "province"),
    "postal_code": ("postal_code", "postalCode", "zip", "postcode"),
    "country": ("country", "country_code"),
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _text(source: Mapping[str, Any], names: Sequence[str]) -> str:
    for name in names:
        value = source.get(name)
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return ""


def postal_address(traits: Mapping[str, Any]) -> tuple[dict[str, str] | None, str | None]:
    """(the normalised address, None) or (None, the reason it is incomplete)."""
    nested = traits.get("address")
    source: Mapping[str, Any] = nested if isinstance(nested, dict) else traits
    address = {column: _text(source, names) for column, names in _ALIASES.items()}
    name = _text(traits, ("name",)) or " ".join(
        p for p in (_text(traits, ("first_name", "firstName")), _text(traits, ("last_name",))) if p
    )
    address = {"name": name, **address}
    missing = [c for c in REQUIRED if not address[c]]
    if missing:
        return None, f"incomplete_address: missing {', '.join(missing)}"
    return address, None


def address_json(address: Mapping[str, str]) -> str:
    return orjson.dumps(dict(address), option=orjson.OPT_SORT_KEYS).decode()


def run_key(message: RenderedMessage) -> str:
    """The campaign or canvas run a message belongs to (its source's run)."""
    source = message.source
    parts = [str(source.get(k) or "") for k in ("kind", "id", "run")]
    return ":".join(parts)


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif value is not None:
        out[prefix] = value if isinstance(value, str) else orjson.dumps(value).decode()


def mail_row(message: RenderedMessage) -> dict[str, str]:
    try:
        address = orjson.loads(message.to)
    except orjson.JSONDecodeError:
        address = {}
    row = {"message_id": message.message_id, "profile_id": message.profile_id or ""}
    row.update({c: str(address.get(c, "")) for c in ADDRESS_COLUMNS})
    fields: dict[str, str] = {}
    _flatten(message.fields.get("fields"), "", fields)
    row.update({k: v for k, v in fields.items() if k not in row})
    return row


def write_extract(folder: Path, name: str, rows: Sequence[Mapping[str, str]]) -> tuple[Path, Path]:
    """Write `<name>.csv` and `<name>.parquet` atomically; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    base = ["message_id", "profile_id", *ADDRESS_COLUMNS]
    extra = sorted({k for row in rows for k in row} - set(base))
    columns = base + extra
    csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
    tmp_csv, tmp_parquet = csv_path.with_suffix(".csv.tmp"), parquet_path.with_suffix(".tmp")
    with tmp_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: row.get(c, "") for c in columns} for row in rows)
    with duckdb.connect() as con:
        source = str(tmp_csv).replace("'", "''")
        target = str(tmp_parquet).replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM read_csv('{source}', header=true, all_varchar=true)) "
            f"TO '{target}' (FORMAT parquet)"
        )
    os.replace(tmp_csv, csv_path)
    os.replace(tmp_parquet, parquet_path)
    return csv_path, parquet_path


RowStore = Callable[[str, Sequence[dict[str, Any]]], dict[str, list[dict[str, Any]]]]
"""(workspace id, new rows) -> every row of each run those rows belong to."""
RunRecorder = Callable[[str, str, str, str, int], None]
"""(workspace id, run, csv path, parquet path, rows) -> None."""


class DirectMailProvider:
    name = "direct_mail"
    channel = "direct_mail"

    def __init__(self, settings: Mapping[str, Any], rows: RowStore, record: RunRecorder) -> None:
        folder = settings.get("folder")
        if not isinstance(folder, str) or not folder:
            raise InvalidInput(
                "the direct_mail provider needs settings.folder", field="settings.folder"
            )
        self.folder = Path(folder)
        self._rows, self._record = rows, record

    async def send(self, message: RenderedMessage) -> SendResult:
        return (await self.send_many([message]))[0]

    async def send_many(self, messages: Sequence[RenderedMessage]) -> list[SendResult]:
        await asyncio.to_thread(self._extract, messages)
        return [SendResult(SendStatus.SENT, provider_message_id=m.message_id) for m in messages]

    def _extract(self, messages: Sequence[RenderedMessage]) -> None:
        by_workspace: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            by_workspace.setdefault(message.workspace_id, []).append(
                {
                    "message_id": message.message_id,
                    "workspace_id": message.workspace_id,
                    "run": run_key(message),
                    "profile_id": message.profile_id,
                    "row": mail_row(message),
                }
            )
        for workspace_id, rows in by_workspace.items():
            for run, run_rows in self._rows(workspace_id, rows).items():
                name = _SAFE.sub("_", run).strip("_") or "run"
                csv_path, parquet_path = write_extract(
                    self.folder / _SAFE.sub("_", workspace_id), name, run_rows
                )
                self._record(workspace_id, run, str(csv_path), str(parquet_path), len(run_rows))

    async def close(self) -> None:
        return None
