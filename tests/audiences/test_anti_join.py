"""PostgreSQL gets negated subqueries as anti-joins; the other dialects keep NOT IN.

(The equivalence tests check that both forms select the same members.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from clarion.audiences import compile_sql
from clarion.model.audience import parse_definition

NOW = datetime(2026, 11, 1, tzinfo=UTC)
NEVER_CLOSED = {
    "all": [
        {"not": {"performed": {"event": "Account Closed"}}},
        {"not": {"any": [{"not": {"identity": {"namespace": "email"}}}]}},
    ]
}


def test_postgresql_writes_not_exists_for_each_negated_subquery() -> None:
    sql = compile_sql(parse_definition(NEVER_CLOSED), "postgresql", "ws", NOW).sql
    assert sql.count("NOT EXISTS(SELECT 1 FROM (SELECT") == 2
    assert '"anti"."k" = "p"."id"' in sql
    assert ' IN (SELECT "' not in sql


def test_sqlite_keeps_not_in() -> None:
    sql = compile_sql(parse_definition(NEVER_CLOSED), "sqlite", "ws", NOW).sql
    assert "EXISTS" not in sql
    assert sql.count(' IN (SELECT "') == 2
