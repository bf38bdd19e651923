"""Helpers to drive the identity stage directly through the log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from clarion.ids import new_id
from clarion.model.events import NewEvent
from clarion.processing.consumers import drain
from clarion.profiles import IdentityStage
from clarion.storage.schema import events
from clarion.storage.sql import SqlDatabase
from clarion.testing import FakeClock


class Log:
    """Appends Segment-like events for one workspace and runs the identity stage."""

    def __init__(self, db: SqlDatabase, clock: FakeClock, workspace_id: str) -> None:
        self.db, self.clock, self.ws = db, clock, workspace_id
        self.stage = IdentityStage(clock)

    def send(
        self,
        type_: str = "track",
        *,
        user: str | None = None,
        anon: str | None = None,
        event: str | None = None,
        traits: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        at: datetime | None = None,
        previous: str | None = None,
        origin: str = "write_key",
        message_id: str | None = None,
    ) -> str:
        payload: dict[str, Any] = {}
        if traits is not None:
            payload["traits"] = traits
        if context is not None:
            payload["context"] = context
        if previous is not None:
            payload["previousId"] = previous
        mid = message_id or new_id()
        with self.db.write() as tx:
            tx.events.append(
                self.ws,
                [
                    NewEvent(
                        type=type_,
                        message_id=mid,
                        event=event or ("Tick" if type_ == "track" else None),
                        user_id=user,
                        anonymous_id=anon,
                        payload=payload,
                        timestamp=at,
                        origin=origin,
                    )
                ],
                self.clock.now(),
            )
        return mid

    def process(self) -> int:
        self.clock.advance(timedelta(milliseconds=1))
        return drain(self.db, self.clock, [self.stage])

    def profile_of(self, namespace: str, value: str) -> str | None:
        with self.db.read() as tx:
            return tx.profiles.owners(self.ws, [(namespace, value)]).get((namespace, value))

    def stamped(self, message_id: str) -> str | None:
        with self.db.engine.connect() as conn:
            return conn.execute(
                select(events.c.profile_id).where(events.c.message_id == message_id)
            ).scalar()

    def events_named(self, name: str) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.profile_id, events.c.properties)
                .where(events.c.event == name)
                .order_by(events.c.seq)
            ).all()
        return [{"profile_id": r.profile_id, "properties": r.properties} for r in rows]

    def count(self, table: str) -> int:
        with self.db.engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
