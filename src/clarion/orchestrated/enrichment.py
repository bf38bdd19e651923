"""Enrichment columns: their names and types, checked against the catalog."""

from __future__ import annotations

from clarion.model.audience_conditions import Condition
from clarion.model.documents import Problem
from clarion.orchestrated.canvas import EnrichColumn, TopValues
from clarion.orchestrated.catalog import Catalog, PathError
from clarion.orchestrated.checks import aggregate_problems, condition_problems, resolve_column
from clarion.orchestrated.plan import Columns


def top_names(column: EnrichColumn) -> list[str]:
    """The columns a `top` enrichment adds: `name`, or `name_1` ... `name_N`."""
    assert column.top is not None
    if column.top.limit == 1:
        return [column.name]
    return [f"{column.name}_{i}" for i in range(1, column.top.limit + 1)]


def top_where(top: TopValues) -> list[Condition]:
    """The `where` conditions of a `top` enrichment, parsed."""
    return [Condition.model_validate(w) for w in top.where]


def _top(
    catalog: Catalog, columns: Columns, column: EnrichColumn, where: str
) -> tuple[list[tuple[str, str]], list[Problem]]:
    top = column.top
    assert top is not None
    link = catalog.entity(columns.dimension).links.get(top.link)
    if link is None or not link.many:
        return [], [Problem(f"{where}.top.link", f"no one-to-many link {top.link!r}")]
    problems: list[Problem] = []
    try:
        _step, kind = resolve_column(catalog, link.target, {}, top.path)
    except PathError as exc:
        return [], [Problem(f"{where}.top.path", str(exc))]
    if top.by != "count":
        if top.of is None:
            problems.append(Problem(f"{where}.top.of", f"`by: {top.by}` needs the column `of`"))
        else:
            try:
                _s, of_kind = resolve_column(catalog, link.target, {}, top.of)
                if of_kind not in ("integer", "number"):
                    problems.append(Problem(f"{where}.top.of", f"{top.of!r} is not a number"))
            except PathError as exc:
                problems.append(Problem(f"{where}.top.of", str(exc)))
    try:
        conditions = top_where(top)
    except ValueError as exc:
        return [], [Problem(f"{where}.top.where", str(exc))]
    for i, condition in enumerate(conditions):
        for path, message in condition_problems(
            catalog, link.target, {}, condition, f"{where}.top.where[{i}]"
        ):
            problems.append(Problem(path, message))
    return [(name, kind) for name in top_names(column)], problems


def enrichment_columns(
    catalog: Catalog, columns: Columns, added: list[EnrichColumn], activity: str
) -> tuple[list[tuple[str, str]], list[Problem]]:
    """The (name, type) of each new column, and the problems found."""
    out: list[tuple[str, str]] = []
    problems: list[Problem] = []
    taken = set(columns.enrichment())
    for i, column in enumerate(added):
        where = f"{activity}.columns[{i}]"
        if column.path is not None:
            try:
                _step, kind = resolve_column(
                    catalog, columns.dimension, columns.enrichment(), column.path
                )
            except PathError as exc:
                problems.append(Problem(f"{where}.path", str(exc)))
                continue
            if kind == "json":
                problems.append(
                    Problem(f"{where}.path", "traits are read in templates as profile.*")
                )
                continue
            new = [(column.name, kind)]
        elif column.aggregate is not None:
            found = aggregate_problems(catalog, columns.dimension, column.aggregate, where)
            problems.extend(Problem(path, message) for path, message in found)
            fn = column.aggregate.function
            kind = {"count": "integer", "exists": "boolean"}.get(fn, "number")
            new = [(column.name, kind)]
        else:
            new, found_problems = _top(catalog, columns, column, where)
            problems.extend(found_problems)
        for name, kind in new:
            if name in taken:
                problems.append(Problem(f"{where}.name", f"column {name!r} already flows here"))
            taken.add(name)
            out.append((name, kind))
    return out, problems
