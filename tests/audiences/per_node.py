"""The leaves and roots of many definitions, tested in one query per engine.

A mismatch in a leaf can be masked at its root (`any` of a true branch);
comparing every leaf separately finds it, and the roots check how leaves
combine. One query per engine selects, for each profile, one 0/1 column per
node; the evaluator computes the same table. (Every inner node too would
compile each subtree again, for little gain: `all`/`any`/`not` are plain SQL.)
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from clarion.audiences import Resolver, compile_definition
from clarion.audiences.sql.build import cases, eq, number, query, table
from clarion.audiences.sql.context import PROFILE, SqlContext, compile_node
from clarion.audiences.sql.dialects import dialect_named
from clarion.audiences.sql.params import Params
from clarion.model.audience import Definition, walk
from clarion.model.audience_nodes import NodeBase, children
from tests.audiences.data import WORKSPACE, Dataset

Table = dict[str, set[str]]
"""Node label -> the ids of the profiles it holds for."""


def labelled_nodes(
    definitions: list[Definition], skip_roots: frozenset[int] = frozenset()
) -> list[tuple[str, NodeBase]]:
    """The leaves of every definition and the roots of those not in `skip_roots`,
    labelled `d<i>:<path>`."""
    return [
        (f"d{i}:{path}", node)
        for i, definition in enumerate(definitions)
        for path, node in walk(definition)
        if not children(node) or (node is definition and i not in skip_roots)
    ]


def node_query(
    dialect: str, nodes: list[tuple[str, NodeBase]], now: int, resolver: Resolver
) -> tuple[str, dict[str, Any]]:
    """`SELECT p.id, CASE WHEN <node> THEN 1 ELSE 0 END, ...` for one dialect."""
    target = dialect_named(dialect)
    params = Params()
    ctx = SqlContext(target, params, WORKSPACE, now, resolver)
    columns = [exp.column("id", PROFILE)]
    for i, (label, node) in enumerate(nodes):
        holds = cases([(compile_node(node, label, ctx), number(1))], number(0))
        columns.append(exp.alias_(holds, f"c{i}", copy=False))
    select = query(
        columns,
        table("profiles", PROFILE),
        where=[eq(exp.column("workspace_id", PROFILE), ctx.workspace)],
    )
    return target.generate(select), params.values


def engine_table(
    name: str, conn: Any, nodes: list[tuple[str, NodeBase]], now: int, resolver: Resolver
) -> Table:
    """What one engine says of every node."""
    sql, params = node_query(name, nodes, now, resolver)
    if name == "duckdb":
        rows = conn.execute(sql, params).fetchall()
    else:
        rows = conn.exec_driver_sql(sql, params).fetchall()
    found: Table = {label: set() for label, _ in nodes}
    for row in rows:
        for (label, _), value in zip(nodes, row[1:], strict=True):
            if value == 1:
                found[label].add(row[0])
    return found


def evaluator_table(
    dataset: Dataset, nodes: list[tuple[str, NodeBase]], now: int, resolver: Resolver
) -> Table:
    """What the in-memory evaluator says of every node."""
    views = dataset.views()
    found: Table = {}
    for label, node in nodes:
        compiled = compile_definition(node, resolver, label)
        found[label] = {view.id for view in views if compiled.holds(view, now)}
    return found
