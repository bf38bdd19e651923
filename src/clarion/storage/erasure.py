"""The erasure hook registry: how every table holding a profile id forgets a person.

A backend module registers one hook per table with `@erasure_hook("table")`.
A contract test fails for any table with a `profile_id`-marked column and no hook,
so a new store cannot silently keep personal data after a GDPR erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table

from clarion.storage.schema import metadata

EraseFn = Callable[[Any, str, str], int]
"""(transaction, workspace id, profile id) -> rows erased."""

_HOOKS: dict[str, EraseFn] = {}


def erasure_hook(table: str) -> Callable[[EraseFn], EraseFn]:
    """Register `fn` as the way to erase one profile from `table`."""

    def register(fn: EraseFn) -> EraseFn:
        if table in _HOOKS and _HOOKS[table] is not fn:
            raise ValueError(f"table {table!r} already has an erasure hook")
        _HOOKS[table] = fn
        return fn

    return register


def hooks() -> dict[str, EraseFn]:
    """Every registered hook, by table name."""
    return dict(_HOOKS)


def tables_with_profile_ids() -> set[str]:
    """Tables of the schema that have a column marked as holding a profile id."""
    return {t.name for t in metadata.sorted_tables if _holds_profile_id(t)}


def _holds_profile_id(table: Table) -> bool:
    return any(col.info.get("profile_id") for col in table.columns)


def erase_profile(tx: Any, workspace_id: str, profile_id: str) -> dict[str, int]:
    """Run every hook for one profile in `tx`; returns rows erased per table."""
    return {name: fn(tx, workspace_id, profile_id) for name, fn in sorted(_HOOKS.items())}
