"""Save audience: a run stores the profiles flowing into the activity as a list audience.

The audience (`type: list`) is made on the first run if no document has its
name; each run replaces its members with the working set's profiles and
appends `audience.entered` / `audience.exited` for those who join or leave, so
journeys and campaigns can use it like any audience. A calculation only counts
the set. Saving again the same members changes nothing, so a run computed again
after a crash appends no event twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlglot import exp

from clarion.audiences.kind import AudienceKind
from clarion.audiences.membership.changes import replace_members
from clarion.audiences.sql.build import query
from clarion.model.audience import parse_audience
from clarion.model.documents import Problem
from clarion.orchestrated.canvas import CanvasSpec, SaveAudience
from clarion.orchestrated.errors import InvalidCanvas
from clarion.orchestrated.executor import Executor
from clarion.storage.base import Tx


def save_activities(spec: CanvasSpec) -> list[SaveAudience]:
    """The canvas's save_audience activities."""
    return [a for a in spec.activities if isinstance(a, SaveAudience)]


def working_profiles(executor: Executor, key: str) -> list[str]:
    """The distinct profile ids of a profiles working set."""
    table = executor.source.table_of(executor.tables[executor.plan.table_of(key)], "w")
    select = query([exp.column("_pk", "w")], table)
    select.set("distinct", exp.Distinct())
    _names, rows = executor.source.fetch(executor.source.engine.generate(select), {})
    return sorted(str(row[0]) for row in rows)


def list_audience_problem(activity_id: str, name: str, spec: Any) -> Problem | None:
    """A problem when the document named `name` exists and is not a list audience."""
    if spec is None:
        return None
    try:
        kind = parse_audience(spec).type
    except Exception:  # an invalid document reports its own problems
        return None
    if kind == "list":
        return None
    return Problem(
        f"{activity_id}.audience",
        f"{name!r} is a {kind} audience; save_audience stores a list audience",
    )


def save_audience(
    tx: Tx,
    workspace_id: str,
    activity: SaveAudience,
    members: list[str],
    canvas_name: str,
    now: datetime,
) -> dict[str, Any]:
    """Store `members` as the activity's audience; what changed, as the run records it."""
    name = activity.audience
    doc = tx.documents.get(workspace_id, "audience", name)
    problem = list_audience_problem(activity.id, name, doc.spec if doc else None)
    if problem is not None:
        raise InvalidCanvas([problem])
    if doc is None:
        spec = {
            "kind": "audience",
            "name": name,
            "type": "list",
            "description": f"saved by canvas {canvas_name}",
        }
        doc, _action = AudienceKind().apply(tx, workspace_id, name, spec, now)
    replaced = replace_members(tx, workspace_id, name, doc.version, members, now)
    tx.audiences.set_status(workspace_id, name, "ready", doc.version, replaced.count, now)
    return {
        "audience": name,
        "count": replaced.count,
        "entered": len(replaced.entered),
        "exited": len(replaced.exited),
    }
