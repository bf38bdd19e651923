"""From a canvas and the catalog to a logical plan, or problems named by activity id."""

from __future__ import annotations

from clarion.model.audience_nodes import NodeBase
from clarion.model.documents import Problem
from clarion.orchestrated import canvas as c
from clarion.orchestrated import plan as p
from clarion.orchestrated.catalog import Catalog, PathError
from clarion.orchestrated.checks import filter_problems, resolve_column
from clarion.orchestrated.graph import graph_problems, topological, transitions
from clarion.orchestrated.schema import PROFILES


class _Builder:
    def __init__(self, spec: c.CanvasSpec, catalog: Catalog) -> None:
        self.spec, self.catalog = spec, catalog
        self.steps: dict[str, p.Step] = {}
        self.channels: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.edges = transitions(spec)
        self.seed = spec.seed or spec.name or ""

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def inbound(self, activity_id: str) -> list[str]:
        return [e.key for e in self.edges if e.target == activity_id and e.key in self.steps]

    def add(self, key: str, activity: str, node: p.PlanNode, columns: p.Columns) -> None:
        self.steps[key] = p.Step(key, activity, node, columns)

    def check_filter(self, node: NodeBase | None, columns: p.Columns, where: str) -> bool:
        if node is None:
            return True
        found = filter_problems(
            self.catalog,
            columns.dimension,
            node,
            where,
            columns.enrichment(),
        )
        for path, message in found:
            self.problem(path, message)
        return not found

    def check_paths(self, columns: p.Columns, paths: list[str], where: str) -> None:
        for i, path in enumerate(paths):
            try:
                resolve_column(self.catalog, columns.dimension, columns.enrichment(), path)
            except PathError as exc:
                self.problem(f"{where}[{i}]", str(exc))

    # --- activities -------------------------------------------------------------

    def build(self, a: c.BuildAudience) -> None:
        if a.dimension not in self.catalog.entities:
            self.problem(f"{a.id}.dimension", f"no entity named {a.dimension!r}")
            return
        if a.audience is not None and a.dimension != PROFILES:
            self.problem(f"{a.id}.audience", "a Clarion audience is a set of profiles")
        columns = p.Columns(a.dimension)
        self.check_filter(a.filter, columns, f"{a.id}.filter")
        self.add(a.id, a.id, p.Scan(a.dimension, a.filter, a.audience), columns)

    def single(self, a: c._Activity) -> tuple[str, p.Columns] | None:
        sources = self.inbound(a.id)
        if not sources:
            return None
        if len(sources) > 1 and not isinstance(a, c.AndJoin | c.Combine):
            self.problem(a.id, "takes one inbound transition; use combine or and_join to merge")
        return sources[0], self.steps[sources[0]].columns

    def combine(self, a: c.Combine | c.AndJoin) -> None:
        sources = self.inbound(a.id)
        if not sources:
            return
        if a.primary is not None:
            primary = [k for k in sources if k == a.primary or k.startswith(a.primary + ".")]
            if not primary:
                self.problem(f"{a.id}.primary", f"{a.primary!r} is not an inbound transition")
                return
            sources = [primary[0], *[k for k in sources if k != primary[0]]]
        dims = {self.steps[k].columns.dimension for k in sources}
        if len(dims) > 1:
            self.problem(a.id, f"inbound sets have different dimensions: {sorted(dims)}")
            return
        first = self.steps[sources[0]].columns
        if isinstance(a, c.AndJoin):
            self.add(a.id, a.id, p.Pass(sources[0]), first)
            return
        columns = first if a.operation != "union" else p.Columns(first.dimension)
        if a.operation == "union" and len({self.steps[k].columns.secondary for k in sources}) > 1:
            self.problem(a.id, "inbound sets mix secondary dimensions")
        if a.operation == "union":
            columns = p.Columns(first.dimension, first.secondary, first.secondary_entity)
        self.add(a.id, a.id, p.SetOp(a.operation, tuple(sources)), columns)

    def dedup(self, a: c.Deduplicate, source: str, columns: p.Columns) -> None:
        self.check_paths(columns, a.keys, f"{a.id}.keys")
        self.check_paths(columns, [o.path for o in a.order_by], f"{a.id}.order_by")
        node = p.Dedup(source, tuple(a.keys), tuple(a.order_by), a.keep == "last", a.count)
        self.add(a.id, a.id, node, columns)

    def enrich(self, a: c.Enrich, source: str, columns: p.Columns) -> None:
        from clarion.orchestrated.enrichment import enrichment_columns

        added, problems = enrichment_columns(self.catalog, columns, a.columns, a.id)
        self.problems.extend(problems)
        secondary, entity = columns.secondary, columns.secondary_entity
        if a.secondary is not None:
            link = self.catalog.entity(columns.dimension).links.get(a.secondary.link)
            if link is None or not link.many:
                self.problem(
                    f"{a.id}.secondary.link",
                    f"{columns.dimension} has no one-to-many link {a.secondary.link!r}",
                )
                return
            if columns.secondary is not None:
                self.problem(f"{a.id}.secondary", "the set already has a secondary dimension")
            secondary, entity = link.name, link.target
            if a.secondary.filter is not None:
                self.check_filter(
                    a.secondary.filter, p.Columns(link.target), f"{a.id}.secondary.filter"
                )
        out = p.Columns(columns.dimension, secondary, entity, (*columns.enriched, *added))
        node = p.Enrich(
            source,
            tuple(a.columns),
            a.secondary.link if a.secondary else None,
            a.secondary.filter if a.secondary else None,
        )
        self.add(a.id, a.id, node, out)

    def split(self, a: c.Split, source: str, columns: p.Columns) -> None:
        self.add(a.id, a.id, p.Pass(source), columns)
        before: list[str] = []
        for i, segment in enumerate(a.segments):
            self.check_filter(segment.filter, columns, f"{a.id}.segments[{i}].filter")
            self.check_paths(
                columns, [o.path for o in segment.order_by], f"{a.id}.segments[{i}].order_by"
            )
            key = f"{a.id}.{segment.id}"
            node = p.Segment(
                source,
                segment.filter,
                segment.limit,
                tuple(segment.order_by),
                f"{a.seed or self.seed}:{a.id}.{segment.id}",
                () if a.overlap else tuple(before),
            )
            self.add(key, a.id, node, columns)
            before.append(key)
        complement = p.Complement(source, tuple(before))
        self.add(f"{a.id}.complement", a.id, complement, columns)

    def change(self, a: c.ChangeDimension, source: str, columns: p.Columns) -> None:
        entity = self.catalog.entities.get(a.to)
        if entity is None:
            self.problem(f"{a.id}.to", f"no entity named {a.to!r}")
            return
        links = [
            link
            for link in self.catalog.entity(columns.dimension).links.values()
            if link.target == a.to and (a.link is None or link.name == a.link)
        ]
        if len(links) != 1:
            why = "no link" if not links else "several links; name one with `link`"
            self.problem(f"{a.id}.to", f"{columns.dimension} -> {a.to}: {why}")
            return
        self.add(a.id, a.id, p.ChangeDimension(source, links[0].name), p.Columns(a.to))

    def channel(self, a: c.Channel, source: str, columns: p.Columns) -> None:
        if columns.dimension != PROFILES and self.catalog.profile_link(columns.dimension) is None:
            self.problem(a.id, f"{columns.dimension} rows have no link to profiles to send to")
            return
        self.add(a.id, a.id, p.Pass(source), columns)
        key = f"{a.id}.eligible"
        node = p.Recipients(a.id, a.type, a.subscription_group, a.category)
        self.add(key, a.id, node, columns)
        self.channels[a.id] = key

    def activity(self, a: c._Activity) -> None:
        if isinstance(a, c.BuildAudience):
            self.build(a)
            return
        if isinstance(a, c.Combine | c.AndJoin):
            self.combine(a)
            return
        if isinstance(a, c.Scheduler | c.End):
            return
        found = self.single(a)
        if found is None:
            if not isinstance(a, c.Wait):
                self.problem(a.id, "no working set reaches this activity")
            return
        source, columns = found
        if isinstance(a, c.Deduplicate):
            self.dedup(a, source, columns)
        elif isinstance(a, c.Enrich):
            self.enrich(a, source, columns)
        elif isinstance(a, c.Split):
            self.split(a, source, columns)
        elif isinstance(a, c.ChangeDimension):
            self.change(a, source, columns)
        elif isinstance(a, c.Channel):
            self.channel(a, source, columns)
        elif isinstance(a, c.SaveAudience) and columns.dimension != PROFILES:
            self.problem(a.id, "save_audience stores profiles; change the dimension first")
        else:
            self.add(a.id, a.id, p.Pass(source), columns)


def build_plan(spec: c.CanvasSpec, catalog: Catalog) -> tuple[p.Plan | None, list[Problem]]:
    """The plan of a canvas, or the problems that prevent one (paths start with activity ids)."""
    problems = graph_problems(spec)
    if problems:
        return None, problems
    builder = _Builder(spec, catalog)
    by_id = {a.id: a for a in spec.activities}
    for activity_id in topological(list(by_id), builder.edges):
        builder.activity(by_id[activity_id])
    if builder.problems:
        return None, builder.problems
    return p.Plan(tuple(builder.steps.values()), builder.channels), []
