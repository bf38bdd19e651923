"""What a template does to shared state, found before compiling it.

Compiled code skips namespace lookups that cannot succeed: a name that the template
never assigns cannot be in its local namespace unless an ``include``d fragment, which
shares that namespace, could have assigned it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from liquid.ast import BlockNode, Node
from liquid.builtin.expressions import StringLiteral
from liquid.builtin.tags.assign_tag import AssignNode
from liquid.builtin.tags.capture_tag import CaptureNode
from liquid.builtin.tags.case_tag import CaseNode, MultiExpressionBlockNode
from liquid.builtin.tags.decrement_tag import DecrementNode
from liquid.builtin.tags.for_tag import ForNode
from liquid.builtin.tags.if_tag import IfNode
from liquid.builtin.tags.ifchanged_tag import IfChangedNode
from liquid.builtin.tags.include_tag import IncludeNode
from liquid.builtin.tags.increment_tag import IncrementNode
from liquid.builtin.tags.liquid_tag import LiquidNode
from liquid.builtin.tags.render_tag import RenderNode
from liquid.builtin.tags.tablerow_tag import TablerowNode
from liquid.builtin.tags.unless_tag import UnlessNode

__all__ = ["TemplateAnalysis", "analyze", "loop_offset_key", "walk"]


@dataclass(frozen=True)
class TemplateAnalysis:
    """Static facts about one template's nodes."""

    has_include: bool
    has_render: bool
    assigned: frozenset[str]
    counters: frozenset[str]
    continued_loops: frozenset[str] = field(default_factory=frozenset)


def loop_offset_key(node: ForNode | TablerowNode) -> str:
    """The key python-liquid stores a loop's stop index under."""
    return f"{node.expression.identifier}-{node.expression.iterable}"


def analyze(nodes: Iterable[Node]) -> TemplateAnalysis:
    """Collect assigned and counter names, fragments used and ``offset: continue`` loops."""
    has_include = has_render = False
    assigned: set[str] = set()
    counters: set[str] = set()
    continued: set[str] = set()
    for node in walk(nodes):
        if isinstance(node, IncludeNode):
            has_include = True
        elif isinstance(node, RenderNode):
            has_render = True
        elif isinstance(node, AssignNode | CaptureNode):
            assigned.add(str(node.name))
        elif isinstance(node, IncrementNode | DecrementNode):
            counters.add(str(node.name))
        elif isinstance(node, ForNode | TablerowNode):
            offset = node.expression.offset
            if isinstance(offset, StringLiteral) and offset.value == "continue":
                continued.add(loop_offset_key(node))
    return TemplateAnalysis(
        has_include,
        has_render,
        frozenset(assigned),
        frozenset(counters),
        frozenset(continued),
    )


def walk(nodes: Iterable[Node]) -> Iterator[Node]:
    """Every node of a template, depth first, including those inside blocks."""
    for node in nodes:
        yield node
        yield from walk(_children(node))


def _children(node: Node) -> list[Node]:
    if isinstance(node, BlockNode):
        return list(node.nodes)
    if isinstance(node, IfNode | UnlessNode):
        blocks: list[Node] = [node.consequence, *(alt.block for alt in node.alternatives)]
        return [*blocks, node.default] if node.default else blocks
    if isinstance(node, ForNode):
        return [node.block, node.default] if node.default else [node.block]
    if isinstance(node, CaseNode):
        return [b.block if isinstance(b, MultiExpressionBlockNode) else b for b in node.blocks]
    if isinstance(node, CaptureNode | IfChangedNode | LiquidNode | TablerowNode):
        return [node.block]
    return []
