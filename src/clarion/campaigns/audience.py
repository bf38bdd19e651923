"""A run's audience snapshot: included audiences minus excluded ones, by the SQL compiler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion.audiences.kind import TxResolver
from clarion.campaigns.spec import CampaignSpec
from clarion.model.audience import parse_definition
from clarion.storage.base import Tx


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Who a run targets: `targeted` are in an included audience, `excluded` of them are in
    an excluded one, and `members` (sorted profile ids) are the rest."""

    members: list[str]
    targeted: int
    excluded: int


def _union(names: list[str]) -> dict[str, Any]:
    return {"any": [{"in_audience": name} for name in names]}


def snapshot(tx: Tx, workspace_id: str, spec: CampaignSpec, now: datetime) -> Snapshot:
    """Evaluate the campaign's audiences now. The send list is one query (include and
    not exclude), so it is consistent in itself; `targeted` is a second one."""
    resolver = TxResolver(tx, workspace_id)
    included = parse_definition(_union(spec.audience))
    if not spec.exclude:
        members = tx.audience_members(workspace_id, included, now, resolver)
        return Snapshot(members, len(members), 0)
    send = parse_definition({"all": [_union(spec.audience), {"not": _union(spec.exclude)}]})
    members = tx.audience_members(workspace_id, send, now, resolver)
    targeted = len(tx.audience_members(workspace_id, included, now, resolver))
    return Snapshot(members, targeted, max(0, targeted - len(members)))
