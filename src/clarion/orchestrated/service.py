"""Calculations and runs of canvases: the operations the API and the CLI call.

- **calculate**: every working set up to the channel activities is made as a
  work table; the result is the exact count on every transition, each channel
  activity's eligible recipients, and a preview of each set. Nothing is sent.
  The calculation's tables stay for `retention`, so a run that follows reads
  the same snapshot.
- **run**: reuses the latest calculation of the same canvas version while its
  tables are retained (or computes afresh and reports how the counts differ
  from it), numbers each channel activity's recipients, and queues them in
  chunks, each chunk in ONE transaction with the run's cursor. A crash resumes
  at the cursor; a replayed chunk queues nothing twice (message ids derive
  from the canvas, run, activity and row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlglot import exp

from clarion.audiences.kind import TxResolver
from clarion.audiences.sql.build import query
from clarion.clock import Clock, from_micros, to_micros
from clarion.delivery import enqueue
from clarion.ids import new_id
from clarion.model.durations import parse_duration
from clarion.orchestrated.canvas import CanvasSpec, Channel, Wait
from clarion.orchestrated.catalog import Catalog, Entity
from clarion.orchestrated.documents import find_canvas, load_catalog
from clarion.orchestrated.errors import InvalidCanvas, NoSchema, UnknownEntity, UnknownRun
from clarion.orchestrated.executor import Executor, jsonable, work_names
from clarion.orchestrated.graph import transitions
from clarion.orchestrated.optimize import optimize
from clarion.orchestrated.plan import Plan, Recipients
from clarion.orchestrated.planner import build_plan
from clarion.orchestrated.saving import save_activities, save_audience, working_profiles
from clarion.orchestrated.sending import chunk_rows, intents_for, number_recipients
from clarion.orchestrated.sources.base import DataSource
from clarion.orchestrated.sources.registry import SourceRegistry
from clarion.storage.base import Database
from clarion.storage.canvases import CanvasRun


@dataclass
class Prepared:
    """A canvas ready to execute: its document, plan, source."""

    canvas_id: str
    name: str
    version: int
    spec: CanvasSpec
    catalog: Catalog
    plan: Plan
    source: DataSource


def counts_of(plan: Plan, counts: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(rows per transition, eligible recipients per channel activity)."""
    flows = {k: n for k, n in counts.items() if not isinstance(plan.step(k).node, Recipients)}
    eligible = {activity: counts[key] for activity, key in plan.channels.items()}
    return flows, eligible


def wait_offsets(spec: CanvasSpec) -> dict[str, timedelta]:
    """Per activity, the longest sum of waits on a path leading to it."""
    edges = transitions(spec)
    waits = {a.id: parse_duration(a.duration) for a in spec.activities if isinstance(a, Wait)}
    offsets: dict[str, timedelta] = {}

    def offset(activity: str, seen: frozenset[str]) -> timedelta:
        if activity in offsets:
            return offsets[activity]
        before = [e.source for e in edges if e.target == activity and e.source not in seen]
        best = max(
            (offset(b, seen | {activity}) + waits.get(b, timedelta()) for b in before),
            default=timedelta(),
        )
        offsets[activity] = best
        return best

    for a in spec.activities:
        offset(a.id, frozenset())
    return offsets


class CanvasService:
    """See the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sources: SourceRegistry,
        *,
        retention: timedelta = timedelta(hours=24),
        chunk: int = 2000,
        lease: timedelta = timedelta(seconds=120),
    ) -> None:
        self.db, self.clock, self.sources = db, clock, sources
        self.retention, self.chunk = retention, chunk
        self.lease_us = int(lease.total_seconds() * 1e6)
        self.wake_dispatcher: Any = lambda: None

    # --- preparing -------------------------------------------------------------

    def prepare(self, workspace_id: str, ref: str, version: int | None = None) -> Prepared:
        """The canvas's plan on its workspace's source; `InvalidCanvas` with problems."""
        with self.db.read() as tx:
            stored, spec = find_canvas(tx, workspace_id, ref)
            if version is not None and version != stored.version:
                found = tx.documents.version(workspace_id, "canvas", stored.name, version)
                if found is not None:
                    from clarion.orchestrated.documents import parse_canvas

                    parsed, _ = parse_canvas({**found.spec, "name": stored.name})
                    spec = parsed or spec
            catalog = load_catalog(tx, workspace_id)
        plan, problems = build_plan(spec, catalog)
        if plan is None:
            raise InvalidCanvas(problems)
        source = self.sources.source(workspace_id, catalog.spec.source)
        return Prepared(
            stored.id, stored.name, version or stored.version, spec, catalog, optimize(plan), source
        )

    def executor(self, workspace_id: str, prepared: Prepared, tables: dict[str, str]) -> Executor:
        """An executor of the prepared plan (its resolver reads stored audiences)."""
        return Executor(
            prepared.source,
            prepared.catalog,
            prepared.plan,
            workspace_id,
            to_micros(self.clock.now()),
            tables,
        )

    def sql(self, workspace_id: str, ref: str) -> dict[str, Any]:
        """Code view: each step's SQL and parameters."""
        prepared = self.prepare(workspace_id, ref)
        executor = self.executor(workspace_id, prepared, work_names("preview", prepared.plan))
        steps = {}
        with self.db.read() as tx:
            executor.resolver = TxResolver(tx, workspace_id)
            for step in prepared.plan.steps:
                sql, params = executor.sql_of(step)
                steps[step.key] = {"sql": sql, "params": {k: _show(v) for k, v in params.items()}}
        return {"engine": prepared.source.engine.name, "steps": steps}

    def _compute(
        self, workspace_id: str, prepared: Prepared, run_id: str, reuse: bool
    ) -> tuple[Executor, dict[str, Any]]:
        freshness = self.sources.provider(prepared.catalog.spec.source).provide(
            prepared.source, workspace_id
        )
        executor = self.executor(workspace_id, prepared, work_names(run_id, prepared.plan))
        with self.db.read() as tx:
            executor.resolver = TxResolver(tx, workspace_id)
            executor.materialize(reuse=reuse)
        return executor, freshness.as_json()

    # --- calculate -------------------------------------------------------------

    def calculate(self, workspace_id: str, ref: str, *, previews: int = 10) -> dict[str, Any]:
        """Exact counts on every transition, eligible recipients, previews; nothing sent."""
        prepared = self.prepare(workspace_id, ref)
        now = self.clock.now()
        run = CanvasRun(
            new_id(),
            workspace_id,
            prepared.canvas_id,
            prepared.name,
            prepared.version,
            "calculate",
            "computing",
            now,
            now,
        )
        executor, freshness = self._compute(workspace_id, prepared, run.id, reuse=False)
        flows, eligible = counts_of(prepared.plan, executor.count_all())
        shown = executor.previews(list(flows), previews) if previews else {}
        run.state = {
            "counts": flows,
            "eligible": eligible,
            "tables": executor.tables,
            "freshness": freshness,
            "engine": prepared.source.engine.name,
            "now_us": executor.now_us,
        }
        run.status, run.finished_at, run.updated_at = (
            "completed",
            self.clock.now(),
            self.clock.now(),
        )
        with self.db.write() as tx:
            tx.canvases.save_run(run)
        return {**render_run(run), "previews": shown}

    # --- runs ------------------------------------------------------------------

    def start_run(self, workspace_id: str, ref: str, *, reuse: bool = True) -> CanvasRun:
        """Create a pending run (the worker, or `drain`, does the work)."""
        prepared = self.prepare(workspace_id, ref)
        now = self.clock.now()
        calculation = latest = None
        with self.db.read() as tx:
            for found in tx.canvases.runs(workspace_id, prepared.canvas_id, 20):
                if found.mode != "calculate" or found.status != "completed":
                    continue
                if found.version != prepared.version:
                    continue
                latest = latest or found
                if (
                    reuse
                    and found is latest
                    and found.cleaned_at is None
                    and found.state.get("engine") == prepared.source.engine.name
                    and now - found.created_at < self.retention
                ):
                    calculation = found
        run = CanvasRun(
            new_id(),
            workspace_id,
            prepared.canvas_id,
            prepared.name,
            prepared.version,
            "run",
            "pending",
            now,
            now,
        )
        run.state = {
            "calculation": calculation.id if calculation else None,
            "compared_with": latest.id if latest else None,
        }
        with self.db.write() as tx:
            tx.canvases.save_run(run)
        return run

    def step(self) -> int:
        """Claim due runs and advance each; how many were worked on."""
        now_us = to_micros(self.clock.now())
        with self.db.write() as tx:
            runs = tx.canvases.claim_runs(now_us, 4, now_us + self.lease_us)
        for run in runs:
            try:
                self.work(run)
            except Exception as exc:  # recorded on the run; the worker goes on
                run.status, run.error = "failed", str(exc)[:2000]
                run.updated_at = run.finished_at = self.clock.now()
                with self.db.write() as tx:
                    tx.canvases.save_run(run)
                if not isinstance(exc, InvalidCanvas | NoSchema):
                    raise
        return len(runs)

    def drain(self, limit: int = 1000) -> None:
        """Step until no run has work due now (tests and `wait=true`)."""
        for _ in range(limit):
            if not self.step():
                return

    def work(self, run: CanvasRun) -> None:
        """Advance one run: compute, number recipients, then send chunk by chunk."""
        prepared = self.prepare(run.workspace_id, run.canvas_id, run.version)
        if run.status in ("pending", "computing"):
            self._start(run, prepared)
        executor = self.executor(run.workspace_id, prepared, dict(run.state["tables"]))
        channels = {a.id: a for a in prepared.spec.activities if isinstance(a, Channel)}
        offsets = wait_offsets(prepared.spec)
        for activity_id, progress in run.state["sending"].items():
            while progress["queued"] < progress["total"]:
                self._send_chunk(
                    run, executor, channels[activity_id], progress, offsets[activity_id]
                )
        run.status, run.finished_at, run.updated_at = (
            "completed",
            self.clock.now(),
            self.clock.now(),
        )
        with self.db.write() as tx:
            tx.canvases.save_run(run)

    def _start(self, run: CanvasRun, prepared: Prepared) -> None:
        run.status, run.updated_at = "computing", self.clock.now()
        with self.db.write() as tx:
            tx.canvases.save_run(run, lease_us=to_micros(run.updated_at) + self.lease_us)
        calculation = None
        if run.state.get("calculation"):
            with self.db.read() as tx:
                calculation = tx.canvases.run(run.workspace_id, run.state["calculation"])
        made = (
            {
                calculation.state["tables"][prepared.plan.table_of(s.key)]
                for s in prepared.plan.steps
            }
            if calculation is not None
            else set()
        )
        differences: dict[str, Any] = {}
        if calculation is not None and all(prepared.source.has_table(t) for t in made):
            executor = self.executor(run.workspace_id, prepared, dict(calculation.state["tables"]))
            freshness = calculation.state["freshness"]
            flows, eligible = counts_of(prepared.plan, executor.count_all())
        else:
            executor, freshness = self._compute(run.workspace_id, prepared, run.id, reuse=True)
            run.state["calculation"] = None
            flows, eligible = counts_of(prepared.plan, executor.count_all())
            if run.state.get("compared_with"):
                differences = self._differences(run, flows, eligible)
        saved = self._save_audiences(run, prepared, executor)
        sending = {}
        for activity_id, key in prepared.plan.channels.items():
            numbered = f"{executor.tables[key]}_r{run.id.replace('-', '')[-8:]}"
            total = number_recipients(executor, key, numbered)
            sending[activity_id] = {"table": numbered, "key": key, "total": total, "queued": 0}
        run.state = {
            **run.state,
            "counts": flows,
            "eligible": eligible,
            "tables": executor.tables,
            "freshness": freshness,
            "engine": prepared.source.engine.name,
            "differences": differences,
            "saved": saved,
            "sending": sending,
        }
        run.status, run.updated_at = "sending", self.clock.now()
        with self.db.write() as tx:
            tx.canvases.save_run(run, lease_us=to_micros(run.updated_at) + self.lease_us)

    def _save_audiences(
        self, run: CanvasRun, prepared: Prepared, executor: Executor
    ) -> dict[str, Any]:
        """Store each save_audience activity's profiles (before anything is sent)."""
        saved = {}
        for activity in save_activities(prepared.spec):
            members = working_profiles(executor, activity.id)
            with self.db.write() as tx:
                saved[activity.id] = save_audience(
                    tx, run.workspace_id, activity, members, run.canvas_name, self.clock.now()
                )
        return saved

    def _differences(
        self, run: CanvasRun, flows: dict[str, int], eligible: dict[str, int]
    ) -> dict[str, Any]:
        """How this run's counts differ from the latest calculation's (computed afresh)."""
        with self.db.read() as tx:
            earlier = tx.canvases.run(run.workspace_id, run.state["compared_with"])
        if earlier is None:
            return {}
        out: dict[str, Any] = {}
        for kind, now_counts in (("counts", flows), ("eligible", eligible)):
            before = earlier.state.get(kind, {})
            for key in sorted(set(before) | set(now_counts)):
                if before.get(key) != now_counts.get(key):
                    out.setdefault(kind, {})[key] = {
                        "calculated": before.get(key),
                        "run": now_counts.get(key),
                    }
        return out

    def _send_chunk(
        self,
        run: CanvasRun,
        executor: Executor,
        activity: Channel,
        progress: dict[str, Any],
        offset: timedelta,
    ) -> None:
        rows = chunk_rows(
            executor, progress["key"], progress["table"], progress["queued"], self.chunk
        )
        now = self.clock.now()
        intents = intents_for(
            run.workspace_id, (run.canvas_id, run.canvas_name, run.version), run.id, activity, rows
        )
        with self.db.write() as tx:
            current = tx.canvases.run(run.workspace_id, run.id, lock=True)
            if current is None or current.status != "sending":
                raise UnknownRun(f"run {run.id} is no longer sending")
            enqueue(tx, intents, now, due_at=now + offset if offset else None)
            progress["queued"] = (
                min(progress["total"], progress["queued"] + self.chunk)
                if rows
                else progress["total"]
            )
            run.state["sending"][activity.id] = progress
            run.updated_at = now
            tx.canvases.save_run(run, lease_us=to_micros(now) + self.lease_us)
        self.wake_dispatcher()

    def cleanup(self) -> int:
        """Drop the work tables of runs older than the retention; how many runs were cleaned."""
        before = self.clock.now() - self.retention
        with self.db.read() as tx:
            old = tx.canvases.retained(before)
        for run in old:
            try:
                with self.db.read() as tx:
                    catalog = load_catalog(tx, run.workspace_id)
            except NoSchema:
                catalog = None
            if catalog is not None:
                source = self.sources.source(run.workspace_id, catalog.spec.source)
                names = list(run.state.get("tables", {}).values())
                names += [s["table"] for s in run.state.get("sending", {}).values()]
                for name in set(names):
                    source.drop_table(name)
            run.cleaned_at = self.clock.now()
            with self.db.write() as tx:
                tx.canvases.save_run(run)
        return len(old)

    def entity(self, workspace_id: str, entity: str) -> tuple[Catalog, Entity]:
        """A declared entity (not profiles); `UnknownEntity` otherwise."""
        with self.db.read() as tx:
            try:
                catalog = load_catalog(tx, workspace_id)
            except NoSchema:
                raise UnknownEntity(f"no entity {entity!r}: declare a schema first") from None
        found = catalog.entities.get(entity)
        if found is None or found.is_profiles:
            raise UnknownEntity(f"the schema declares no entity {entity!r}", field="entity")
        return catalog, found

    def load_data(self, workspace_id: str, entity: str, rows: list[Any], replace: bool) -> int:
        """Store rows of an entity in the workspace's source; how many were given."""
        catalog, found = self.entity(workspace_id, entity)
        source = self.sources.source(workspace_id, catalog.spec.source)
        return source.load(found, rows, replace)

    def recipients(self, workspace_id: str, run_id: str) -> dict[str, list[list[Any]]]:
        """Per channel activity of a run: `[row key..., profile id]` of each recipient, in order."""
        run = self.run(workspace_id, run_id)
        with self.db.read() as tx:
            catalog = load_catalog(tx, workspace_id)
        source = self.sources.source(workspace_id, catalog.spec.source)
        out: dict[str, list[list[Any]]] = {}
        for activity, sending in run.state.get("sending", {}).items():
            select = query([exp.Star()], source.table_of(sending["table"], "n"))
            select.set("order", exp.Order(expressions=[exp.Ordered(this=exp.column("_seq", "n"))]))
            names, rows = source.fetch(source.engine.generate(select), {})
            keep = [i for i, n in enumerate(names) if n in ("_pk", "_pk2", "_profile_id")]
            out[activity] = [[jsonable(row[i]) for i in keep] for row in rows]
        return out

    def runs(self, workspace_id: str, ref: str) -> list[CanvasRun]:
        """A canvas's runs and calculations, newest first."""
        with self.db.read() as tx:
            stored, _spec = find_canvas(tx, workspace_id, ref)
            return tx.canvases.runs(workspace_id, stored.id)

    def run(self, workspace_id: str, run_id: str) -> CanvasRun:
        """One run; `UnknownRun` when there is none."""
        with self.db.read() as tx:
            found = tx.canvases.run(workspace_id, run_id)
        if found is None:
            raise UnknownRun(f"no canvas run {run_id!r}", field="run")
        return found


def _show(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def render_run(run: CanvasRun) -> dict[str, Any]:
    """A run or calculation as the API shows it."""
    state = run.state
    return {
        "id": run.id,
        "canvas": {"id": run.canvas_id, "name": run.canvas_name, "version": run.version},
        "mode": run.mode,
        "status": run.status,
        "counts": state.get("counts", {}),
        "eligible": state.get("eligible", {}),
        "sending": {
            k: {"total": v["total"], "queued": v["queued"]}
            for k, v in state.get("sending", {}).items()
        },
        "calculation": state.get("calculation"),
        "compared_with": state.get("compared_with"),
        "differences": state.get("differences", {}),
        "saved": state.get("saved", {}),
        "freshness": state.get("freshness"),
        "engine": state.get("engine"),
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "cleaned_at": run.cleaned_at,
    }


__all__ = ["CanvasService", "from_micros", "render_run"]
