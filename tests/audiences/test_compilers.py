"""The compilers' contracts: bound parameters only, clear errors, and the helpers around them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clarion.audiences import (
    NO_REFERENCES,
    AudienceCycle,
    EventView,
    NotCompilable,
    ProfileView,
    StaticResolver,
    UnknownAudience,
    compile_definition,
    compile_sql,
    count,
    duckdb_count,
)
from clarion.audiences.registry import CompilerRegistry
from clarion.audiences.sql.context import SQL_COMPILERS
from clarion.clock import to_micros
from clarion.model.audience import parse_audience, parse_definition
from tests.audiences.data import WORKSPACE, Dataset, Engines

NOW = to_micros(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
DIALECTS = ["sqlite", "postgresql", "duckdb"]
EVIL = "x'); DROP TABLE profiles; --"
EVIL_PATH = "name'; DELETE FROM events; --"


def test_values_paths_and_names_reach_sql_only_as_parameters(engines: Engines) -> None:
    definition = parse_definition(
        {
            "all": [
                {"trait": {"path": EVIL_PATH, "op": "eq", "value": EVIL}},
                {"trait": {"path": "tags", "op": "contains", "value": EVIL}},
                {
                    "performed": {
                        "event": EVIL,
                        "where": [{"path": EVIL_PATH, "op": "starts_with", "value": "x'"}],
                    }
                },
                {"not": {"identity": {"namespace": EVIL}}},
                {"subscribed": {"channel": "email", "group": EVIL}},
            ]
        }
    )
    for dialect in DIALECTS:
        compiled = compile_sql(definition, dialect, "ws'; --", NOW)
        assert EVIL not in compiled.sql and "DROP" not in compiled.sql and "ws'" not in compiled.sql
        assert EVIL in compiled.params.values()

    target = ProfileView(
        "p_evil",
        {EVIL_PATH: EVIL, "tags": [EVIL]},
        events=[EventView("track", EVIL, NOW - 1, {EVIL_PATH: "x'y"})],
    )
    dataset = Dataset([target, ProfileView("p_plain", {EVIL_PATH: "x"})])
    with engines.loaded(dataset) as connections:
        found = engines.results(connections, dataset, definition, NOW, NO_REFERENCES)
        tables_left = {
            name: conn.exec_driver_sql("SELECT COUNT(*) FROM profiles").scalar_one()
            for name, conn in connections.items()
            if name != "duckdb"
        }
    assert found == {engine: ["p_evil"] for engine in found}
    assert set(tables_left.values()) == {2 + 0 + len(dataset.other_workspace)}


def test_now_is_a_parameter_never_the_database_clock() -> None:
    definition = parse_definition({"performed": {"event": "x", "within": "30d"}})
    for dialect in DIALECTS:
        compiled = compile_sql(definition, dialect, "ws", NOW)
        assert compiled.params["now"] == NOW
        assert "CURRENT" not in compiled.sql.upper() and "NOW()" not in compiled.sql.upper()


def test_the_generated_sql_quotes_every_identifier_and_keeps_percent_signs_out() -> None:
    definition = parse_definition(
        {"trait": {"path": "d", "op": "anniversary_within_next", "value": "7d"}}
    )
    compiled = compile_sql(definition, "postgresql", "ws", NOW)

    assert '"p"."traits"' in compiled.sql
    assert "%" not in compiled.sql.replace("%(", "")  # psycopg reads % as a placeholder


LATER_KINDS: dict[str, Any] = {
    "attribute": {"path": "hotel.region", "op": "eq", "value": "north"},
    "aggregate": {"link": "bookings", "function": "exists"},
    "context": {"path": "entry.total", "op": "gt", "value": 1},
    "time": {"days_of_week": ["mon"]},
}


@pytest.mark.parametrize("kind", sorted(LATER_KINDS))
def test_a_node_kind_without_a_compiler_names_its_path(kind: str) -> None:
    registry: CompilerRegistry[Any] = CompilerRegistry("test")
    registry.register("identity")(lambda node, path, ctx: "compiled")
    node = parse_definition({kind: LATER_KINDS[kind]})

    assert registry.compiler(parse_definition({"identity": {"namespace": "e"}}), "x")
    with pytest.raises(
        NotCompilable,
        match=rf"definition\.all\[1\]\.not: the test compiler does not compile `{kind}`",
    ):
        registry.compiler(node, "definition.all[1].not")


def test_declared_kinds_the_sql_compiler_lacks_fail_with_their_path() -> None:
    missing = sorted(set(LATER_KINDS) - SQL_COMPILERS.kinds())
    assert missing, "every later kind compiles to SQL: keep this test meaningful with another kind"
    kind = missing[0]
    definition = parse_definition(
        {"all": [{"identity": {"namespace": "email"}}, {"not": {kind: LATER_KINDS[kind]}}]}
    )

    with pytest.raises(
        NotCompilable,
        match=rf"definition\.all\[1\]\.not: the SQL compiler does not compile `{kind}`",
    ):
        compile_sql(definition, "sqlite", "ws", NOW)


def test_a_compiler_registers_once_per_kind() -> None:
    with pytest.raises(ValueError, match="already registered"):
        SQL_COMPILERS.register("trait")(lambda node, path, ctx: None)
    with pytest.raises(ValueError, match="unknown node kind"):
        CompilerRegistry[Any]("test").register("fancy")


def test_an_unknown_dialect_is_refused_with_the_known_ones() -> None:
    with pytest.raises(NotCompilable, match=r"no audience SQL dialect 'oracle' \(known: duckdb, "):
        compile_sql(parse_definition({"all": []}), "oracle", "ws", NOW)


def test_references_are_inlined_and_cycles_and_unknown_refused() -> None:
    resolver = StaticResolver(
        {
            "a": parse_audience({"name": "a", "definition": {"in_audience": "b"}}),
            "b": parse_audience({"name": "b", "definition": {"any": [{"in_audience": "a"}]}}),
            "vip": parse_audience(
                {"name": "vip", "definition": {"identity": {"namespace": "email"}}}
            ),
            "uploaded": parse_audience({"name": "uploaded", "type": "list"}),
        }
    )
    inlined = compile_sql(parse_definition({"in_audience": "vip"}), "sqlite", "ws", NOW, resolver)
    assert '"namespace"' in inlined.sql and "email" in inlined.params.values()

    for compile_one in (
        lambda d: compile_sql(d, "sqlite", "ws", NOW, resolver),
        lambda d: compile_definition(d, resolver),
    ):
        with pytest.raises(AudienceCycle, match="in_audience cycle: a -> b -> a"):
            compile_one(parse_definition({"in_audience": "a"}))
        with pytest.raises(
            UnknownAudience, match=r"definition\.not\.in_audience: no audience named 'ghost'"
        ):
            compile_one(parse_definition({"not": {"in_audience": "ghost"}}))
    # A list audience's members are stored: SQL reads them; the evaluator cannot.
    listed = compile_sql(
        parse_definition({"in_audience": "uploaded"}), "sqlite", "ws", NOW, resolver
    )
    assert '"audience_members"' in listed.sql and "uploaded" in listed.params.values()
    with pytest.raises(NotCompilable, match="'uploaded' is a list audience"):
        compile_definition(parse_definition({"in_audience": "uploaded"}), resolver)


def test_count_helpers_give_exact_counts_on_every_engine(engines: Engines) -> None:
    dataset = Dataset([ProfileView(f"p{i}", {"n": i}) for i in range(7)])
    definition = parse_definition({"trait": {"path": "n", "op": "gte", "value": 3}})
    with engines.loaded(dataset) as connections:
        counts = {
            name: duckdb_count(conn, definition, workspace_id=WORKSPACE, now=NOW)
            if name == "duckdb"
            else count(conn, definition, workspace_id=WORKSPACE, now=NOW)
            for name, conn in connections.items()
        }
    assert set(counts.values()) == {4}
