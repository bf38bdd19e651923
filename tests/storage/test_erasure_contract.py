"""Every table that holds a profile id has an erasure hook (the contract of DESIGN.md)."""

from __future__ import annotations

import clarion.storage.sql  # noqa: F401  (registers the SQL backend's hooks)
from clarion.storage.erasure import hooks, tables_with_profile_ids
from clarion.storage.schema import metadata


def test_every_table_with_a_profile_id_has_an_erasure_hook() -> None:
    holding = tables_with_profile_ids()
    assert {"events", "profiles", "identities"} <= holding
    missing = sorted(holding - set(hooks()))
    assert missing == [], f"tables holding profile ids without an erasure hook: {missing}"


def test_profile_id_columns_are_marked_so_the_contract_sees_them() -> None:
    unmarked = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if (column.name.endswith("profile_id") or column.name in ("merged_id", "survivor_id"))
        and not column.info.get("profile_id")
    ]
    assert unmarked == []


def test_hooks_only_name_real_tables() -> None:
    assert set(hooks()) <= {t.name for t in metadata.sorted_tables}
