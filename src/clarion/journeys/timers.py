"""Durable timers and custom-action calls.

A timer due at `t` fires only once the journey consumer's watermark has passed
`t`: every event received before the deadline has been routed first, so an
"Order Completed" at T+1h59m59s always beats the T+2h reminder, even when the
consumer lags. Custom actions' HTTP calls are queued like timers and made
outside any transaction; the answer comes back as the step's next input.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

from clarion.clock import Clock, to_micros
from clarion.journeys.consumer import JOURNEY_CONSUMER
from clarion.journeys.engine import JourneyEngine
from clarion.journeys.fanout import run_chunk, run_read
from clarion.journeys.io import HttpResult, Input, TimerFired
from clarion.journeys.state import Instance
from clarion.journeys.step import accepts
from clarion.outbound import BlockedAddress, OutboundClient, OutboundError
from clarion.storage.base import Database, Tx

LEASE_US = 60_000_000


@dataclass(frozen=True)
class HttpAnswer:
    """What a custom action's call came back with (status None: no answer)."""

    status: int | None
    body: Any = None
    error: str | None = None


def _feed(
    tx: Tx, rows: list[dict[str, Any]], inputs: list[Input], now_us: int, clock: Clock
) -> None:
    now = clock.now()
    pairs = sorted(zip(rows, inputs, strict=True), key=lambda p: p[0]["workspace_id"])
    for workspace_id, group in itertools.groupby(pairs, key=lambda p: p[0]["workspace_id"]):
        engine = JourneyEngine(tx, workspace_id, now)
        for row, given in group:
            tx.journeys.delete_timer(row["instance_id"], row["key"])
            state = engine.uow.saved.get(row["instance_id"]) or tx.journeys.instances(
                [row["instance_id"]]
            ).get(row["instance_id"])
            if state is None:
                continue
            instance = Instance.from_json(state)
            if instance.journey in engine.catalog.journeys and accepts(instance, given):
                engine.run(instance, given)
        engine.flush()


def fire_due_timers(db: Database, clock: Clock, limit: int = 500) -> int:
    """Fire timers that are due and that the consumer's watermark has passed, and work
    through due fan-out chunks and audience reads."""
    now_us = to_micros(clock.now())
    with db.write() as tx:
        watermark = tx.events.watermark(JOURNEY_CONSUMER) or 0
        rows = tx.journeys.claim_due(["timer"], limit, min(now_us, watermark), now_us, LEASE_US)
        _feed(tx, rows, [TimerFired(r["key"]) for r in rows], now_us, clock)
        bulk = tx.journeys.claim_due(["fanout", "read"], 4, now_us, now_us, LEASE_US)
        for row in bulk:
            engine = JourneyEngine(tx, row["workspace_id"], clock.now())
            tx.journeys.delete_timer(row["instance_id"], row["key"])
            if row["kind"] == "fanout":
                run_chunk(engine, row["payload"] or {})
            else:
                run_read(engine, row["payload"] or {})
            engine.flush()
    return len(rows) + len(bulk)


async def call(client: OutboundClient, request: dict[str, Any]) -> HttpAnswer:
    """A custom action's request through the outbound client, retried on 5xx and
    transport failures (never on a refused address); never raises."""
    error = "not attempted"
    for attempt in range(int(request.get("retries", 0)) + 1):
        try:
            response = await client.request(
                str(request.get("method", "POST")),
                str(request["url"]),
                headers=request.get("headers") or {},
                content=request.get("body"),
                timeout=float(request.get("timeout_s", 10)),
            )
        except BlockedAddress as exc:
            return HttpAnswer(None, error=str(exc))
        except OutboundError as exc:
            error = str(exc)
            continue
        if response.status_code >= 500 and attempt < int(request.get("retries", 0)):
            error = f"status {response.status_code}"
            continue
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return HttpAnswer(response.status_code, body)
    return HttpAnswer(None, error=error)


async def run_http_calls(
    db: Database, clock: Clock, client: OutboundClient, limit: int = 100
) -> int:
    """Make the queued custom-action calls and feed each answer to its instance."""
    now_us = to_micros(clock.now())

    def claim() -> list[dict[str, Any]]:
        with db.write() as tx:
            return tx.journeys.claim_due(["http"], limit, now_us, now_us, LEASE_US)

    rows = await asyncio.to_thread(claim)
    if not rows:
        return 0
    answers = await asyncio.gather(*(call(client, row["payload"] or {}) for row in rows))

    def record() -> None:
        with db.write() as tx:
            inputs: list[Input] = [
                HttpResult(r["key"], a.status, a.body, a.error)
                for r, a in zip(rows, answers, strict=True)
            ]
            _feed(tx, rows, inputs, to_micros(clock.now()), clock)

    await asyncio.to_thread(record)
    return len(rows)
