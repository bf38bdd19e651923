"""A workspace's audience data, loaded the same way into SQLite, PostgreSQL and DuckDB.

`Dataset` holds profiles as the evaluator sees them (`ProfileView`) plus what
lives beside them (subscription groups, address states, events without a
profile, rows of another workspace). `Engines` runs one definition on every
engine and the evaluator.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson
from sqlalchemy import Connection, Engine, insert

from clarion.audiences import (
    AddressState,
    EventView,
    ProfileView,
    Resolver,
    SubscriptionGroup,
    duckdb_members,
    evaluate,
    members,
)
from clarion.audiences.duckdb_tables import AUDIENCE_TABLES, create_tables
from clarion.model.audience import Definition
from clarion.storage import schema

WORKSPACE = "ws_audiences"
OTHER_WORKSPACE = "ws_other"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Dataset:
    """Everything the audience queries read, for one workspace (plus noise in another)."""

    profiles: list[ProfileView]
    groups: list[SubscriptionGroup] = field(default_factory=list)
    address_states: list[AddressState] = field(default_factory=list)
    unstamped_events: list[EventView] = field(default_factory=list)
    other_workspace: list[ProfileView] = field(default_factory=list)

    def views(self) -> list[ProfileView]:
        """The profiles as the evaluator gets them (address states of the workspace attached)."""
        return [
            ProfileView(
                p.id, p.traits, p.identities, p.subscriptions, self.address_states, p.events
            )
            for p in self.profiles
        ]


def rows(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """The table rows of a dataset."""
    out: dict[str, list[dict[str, Any]]] = {t.name: [] for t in AUDIENCE_TABLES}
    seq = itertools.count(1)
    for workspace, profiles in (
        (WORKSPACE, dataset.profiles),
        (OTHER_WORKSPACE, dataset.other_workspace),
    ):
        for p in profiles:
            out["profiles"].append(
                {
                    "id": p.id,
                    "workspace_id": workspace,
                    "traits": p.traits,
                    "trait_times": {},
                    "timezone": p.timezone,
                    "locale": None,
                    "is_test": False,
                    "created_at": CREATED,
                    "updated_at": CREATED,
                }
            )
            for namespace, value in p.identities:
                out["identities"].append(
                    {
                        "workspace_id": workspace,
                        "namespace": namespace,
                        "value": value,
                        "profile_id": p.id,
                        "created_at": CREATED,
                    }
                )
            for (channel, group), status in p.subscriptions.items():
                out["subscriptions"].append(
                    {
                        "workspace_id": workspace,
                        "profile_id": p.id,
                        "channel": channel,
                        "group": group,
                        "status": status,
                        "source": "api",
                        "updated_at": CREATED,
                    }
                )
            for event in p.events:
                out["events"].append(_event(workspace, p.id, event, next(seq)))
    for event in dataset.unstamped_events:
        out["events"].append(_event(WORKSPACE, None, event, next(seq)))
    for i, group in enumerate(dataset.groups):
        out["subscription_groups"].append(
            {
                "id": f"grp{i}",
                "workspace_id": WORKSPACE,
                "name": group.name,
                "channel": group.channel,
                "default_status": group.default.value,
                "description": "",
                "created_at": CREATED,
            }
        )
    for i, state in enumerate(dataset.address_states):
        out["address_subscriptions"].append(
            {
                "workspace_id": WORKSPACE,
                "channel": state.channel,
                "address_hash": f"h{i}",
                "group": state.group,
                "address": state.address,
                "status": state.status,
                "source": "api",
                "updated_at": CREATED,
            }
        )
    return out


def _event(workspace: str, profile_id: str | None, event: EventView, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "txid": 0,
        "workspace_id": workspace,
        "message_id": f"m{seq}",
        "type": event.type,
        "event": event.event,
        "user_id": None,
        "anonymous_id": None,
        "profile_id": profile_id,
        "properties": event.properties,
        "payload": {},
        "timestamp": event.timestamp,
        "received_at": event.timestamp,
        "origin": "test",
    }


def load_sql(conn: Connection, dataset: Dataset) -> None:
    """Insert a dataset (and its two workspaces) through SQLAlchemy."""
    conn.execute(
        insert(schema.workspaces),
        [
            {"id": w, "name": w, "settings": {}, "created_at": CREATED}
            for w in (WORKSPACE, OTHER_WORKSPACE)
        ],
    )
    all_rows = rows(dataset)
    for table in AUDIENCE_TABLES:
        if all_rows[table.name]:
            conn.execute(insert(table), all_rows[table.name])


def load_duckdb(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """Insert a dataset into DuckDB tables of the same shape (JSON as text)."""
    all_rows = rows(dataset)
    for table in AUDIENCE_TABLES:
        table_rows = all_rows[table.name]
        if not table_rows:
            continue
        names = [c.name for c in table.columns]
        values = [
            [orjson.dumps(r[n]).decode() if isinstance(r[n], dict) else r[n] for n in names]
            for r in table_rows
        ]
        marks = ", ".join("?" for _ in names)
        columns = ", ".join(f'"{n}"' for n in names)
        con.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', values)


@dataclass
class Engines:
    """SQLite and (when available) PostgreSQL engines, and an in-process DuckDB."""

    sql: dict[str, Engine]
    duck: duckdb.DuckDBPyConnection

    @contextmanager
    def loaded(self, dataset: Dataset) -> Iterator[dict[str, Any]]:
        """Connections holding the dataset, rolled back afterwards."""
        connections: dict[str, Any] = {}
        with contextlib.ExitStack() as stack:
            for name, engine in self.sql.items():
                conn = stack.enter_context(engine.connect())
                transaction = conn.begin()
                stack.callback(transaction.rollback)
                load_sql(conn, dataset)
                connections[name] = conn
            self.duck.execute("BEGIN")
            stack.callback(self.duck.execute, "ROLLBACK")
            load_duckdb(self.duck, dataset)
            connections["duckdb"] = self.duck
            yield connections

    def results(
        self,
        connections: dict[str, Any],
        dataset: Dataset,
        definition: Definition,
        now: int,
        resolver: Resolver,
    ) -> dict[str, list[str]]:
        """The members found by every engine and by the evaluator."""
        found: dict[str, list[str]] = {}
        for name, conn in connections.items():
            if name == "duckdb":
                found[name] = duckdb_members(
                    conn, definition, workspace_id=WORKSPACE, now=now, resolver=resolver
                )
            else:
                found[name] = members(
                    conn, definition, workspace_id=WORKSPACE, now=now, resolver=resolver
                )
        found["evaluator"] = sorted(
            view.id for view in dataset.views() if evaluate(definition, view, now, resolver)
        )
        return found


def new_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB with the audience tables."""
    con = duckdb.connect(":memory:")
    create_tables(con)
    return con
