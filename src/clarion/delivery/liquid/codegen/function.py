"""The state of compiling one template into one Python function.

Node and expression handlers (the ``tags_*`` and ``expressions`` modules) write code
through a ``FunctionCompiler``: it knows the output buffer being written, the loop
being compiled, the names bound in Python locals and how deep the scope is.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from liquid import Environment
from liquid.ast import BlockNode, Node
from liquid.expression import Expression
from liquid.token import Token

from clarion.delivery.liquid.codegen.analysis import TemplateAnalysis
from clarion.delivery.liquid.codegen.output import OutputCode
from clarion.delivery.liquid.codegen.scope import LexicalScope
from clarion.delivery.liquid.codegen.writer import CodeWriter
from clarion.delivery.liquid.errors import UnsupportedConstruct

__all__ = [
    "BASE_SCOPE_SIZE",
    "FunctionCompiler",
    "LoopContext",
    "Variant",
    "compiles",
    "evaluates",
]

BASE_SCOPE_SIZE = 4
"""python-liquid's scope starts with locals, globals, built-ins and counters."""


class Variant(enum.Enum):
    """How a template is being rendered, which changes what its code may assume."""

    ROOT = "root"
    """The template a caller renders."""
    INCLUDE = "include"
    """A fragment of ``include``: it shares its caller's namespaces and loops."""
    RENDER = "render"
    """A fragment of ``render``: isolated namespaces, ``include`` disabled."""


@dataclass(slots=True)
class LoopContext:
    """A construct compiled to a Python loop, as seen from ``break``/``continue`` inside.

    ``kind`` is ``"for"`` (``break`` and ``continue`` become Python statements),
    ``"tablerow"`` (they become exceptions that the tablerow catches) or ``"repeat"``
    (a ``when`` block rendered once per matching value: they become exceptions that
    must reach the enclosing ``for``, which then ``catches``).
    """

    kind: str
    catches: bool = False
    loop_object: str | None = None
    """Python name of the ``ForLoop``/``TableRow`` object (not for ``repeat``)."""
    length: str | None = None
    """Python name of the loop's length (not for ``repeat``)."""


NodeT = TypeVar("NodeT", bound=Node)
ExpressionT = TypeVar("ExpressionT", bound=Expression)
NodeHandler = Callable[["FunctionCompiler", Any], None]
ValueHandler = Callable[["FunctionCompiler", Any], str]

NODE_HANDLERS: dict[type[Node], NodeHandler] = {}
VALUE_HANDLERS: dict[type[Expression], ValueHandler] = {}


def compiles(
    *kinds: type[NodeT],
) -> Callable[
    [Callable[[FunctionCompiler, NodeT], None]], Callable[[FunctionCompiler, NodeT], None]
]:
    """Register the decorated function as the code writer for nodes of exactly ``kinds``.

    Exact classes only: a subclass (another tag's node) may mean something else, so it
    is left untranslated and its template falls back to python-liquid.
    """

    def register(
        handler: Callable[[FunctionCompiler, NodeT], None],
    ) -> Callable[[FunctionCompiler, NodeT], None]:
        for kind in kinds:
            NODE_HANDLERS[kind] = handler
        return handler

    return register


def evaluates(
    *kinds: type[ExpressionT],
) -> Callable[
    [Callable[[FunctionCompiler, ExpressionT], str]], Callable[[FunctionCompiler, ExpressionT], str]
]:
    """Register the decorated function as the evaluator of expressions of exactly ``kinds``."""

    def register(
        handler: Callable[[FunctionCompiler, ExpressionT], str],
    ) -> Callable[[FunctionCompiler, ExpressionT], str]:
        for kind in kinds:
            VALUE_HANDLERS[kind] = handler
        return handler

    return register


class FunctionCompiler:
    """Compile the nodes of one template, in one variant, to the body of a function."""

    def __init__(
        self,
        env: Environment,
        writer: CodeWriter,
        *,
        variant: Variant,
        template_name: str,
        analysis: TemplateAnalysis,
    ) -> None:
        self.env = env
        self.w = writer
        self.variant = variant
        self.template_name = template_name
        self.analysis = analysis
        self.scope = LexicalScope("False" if variant is Variant.ROOT else "True")
        self.out = OutputCode(writer, env.output_stream_limit)
        self.loops: list[LoopContext] = []

    # --- nodes -------------------------------------------------------------------

    def node(self, node: Node) -> None:
        """Write the code of one node."""
        handler = NODE_HANDLERS.get(type(node))
        if handler is None:
            raise UnsupportedConstruct(f"node {type(node).__name__}")
        handler(self, node)

    def nodes(self, nodes: Iterable[Node]) -> None:
        """Write the code of a sequence of nodes."""
        for node in nodes:
            self.node(node)

    def block(self, block: BlockNode) -> None:
        """Write a block; a blank one renders to python-liquid's ``NullIO``."""
        if self.env.suppress_blank_control_flow_blocks and block.blank:
            with self.out.null():
                self.nodes(block.nodes)
        else:
            self.nodes(block.nodes)

    # --- expressions ---------------------------------------------------------------

    def value(self, expr: Expression) -> str:
        """Write code evaluating ``expr``; returns a Python expression for its value."""
        handler = VALUE_HANDLERS.get(type(expr))
        if handler is None:
            raise UnsupportedConstruct(f"expression {type(expr).__name__}")
        return handler(self, expr)

    def truth(self, expr: Expression) -> str:
        """Write code deciding ``expr`` in a condition; returns a Python bool expression."""
        # Imported here: conditions registers handlers in this module's tables.
        from clarion.delivery.liquid.codegen.conditions import compile_truth

        return compile_truth(self, expr)

    def const(self, value: object, hint: str = "k") -> str:
        """A constant usable in generated code."""
        return self.w.const(value, hint)

    def token(self, token: Token | None) -> str:
        """A token constant, for error messages that point into the template."""
        return "None" if token is None else self.w.const(token, "tok")

    # --- scope ---------------------------------------------------------------------

    def scope_size(self) -> str:
        """A Python expression for python-liquid's ``scope.size()`` here."""
        pushed = 1 + self.scope.loop_depth
        if self.variant is Variant.INCLUDE:
            return f"depth + {pushed}"
        return str(BASE_SCOPE_SIZE + pushed)

    def check_scope_depth(self, size: str, kind: str) -> None:
        """Write python-liquid's check before pushing a namespace onto a scope of ``size``."""
        limit = self.env.context_depth_limit
        if size.isdigit():
            if int(size) > limit:
                self.w.line(f"raise _context_depth_error({kind!r})")
            return
        with self.w.block(f"if {size} > {limit!r}:"):
            self.w.line(f"raise _context_depth_error({kind!r})")

    def may_be_local(self, name: str) -> bool:
        """Could ``name`` be in the local namespace when this code runs?"""
        if self.variant is Variant.INCLUDE:
            return True
        if self.variant is Variant.ROOT and self.analysis.has_include:
            return True
        return name in self.analysis.assigned

    def may_be_counter(self, name: str) -> bool:
        """Could ``name`` be an ``increment``/``decrement`` counter here?"""
        if self.variant is Variant.INCLUDE:
            return True
        if self.variant is Variant.ROOT and self.analysis.has_include:
            return True
        return name in self.analysis.counters

    def shares_loop_offsets(self, key: str) -> bool:
        """Must a loop record its stop index under ``key`` for ``offset: continue``?"""
        if self.variant is Variant.INCLUDE:
            return True
        if self.variant is Variant.ROOT and self.analysis.has_include:
            return True
        return key in self.analysis.continued_loops

    def observes_loop_stack(self) -> bool:
        """Can fragments see the loop stack (``parentloop``, iteration counts)?"""
        analysis = self.analysis
        return self.variant is Variant.INCLUDE or analysis.has_include or analysis.has_render

    def check_loop_limit(self, length: str) -> None:
        """``RenderContext.raise_for_loop_limit(length)`` for a loop entered here.

        Outside ``include``d fragments the enclosing loops are all lexical, so the
        product of their lengths is written out instead of walking the loop stack.
        """
        limit = self.env.loop_iteration_limit
        if not limit:
            return
        if self.variant is Variant.INCLUDE:
            self.w.line(f"st.raise_for_loop_limit({length})")
            return
        factors = [loop.length for loop in self.loops if loop.length is not None]
        factors.append(length)
        if self.variant is Variant.RENDER:
            factors.append("st.loop_iteration_carry")
        with self.w.block(f"if {' * '.join(factors)} > {limit!r}:"):
            self.w.line("raise _loop_limit_error()")

    def parentloop(self) -> str:
        """``RenderContext.parentloop()``: the innermost enclosing ``for`` loop object."""
        if self.variant is Variant.INCLUDE:
            return "st.parentloop()"
        for loop in reversed(self.loops):
            if loop.kind == "for":
                assert loop.loop_object is not None
                return loop.loop_object
        return "_undefined('parentloop', token=None)"

    def interrupt_statement(self, interrupt: str) -> str:
        """The Python statement for a Liquid ``break`` or ``continue`` here."""
        for loop in reversed(self.loops):
            if loop.kind == "for":
                if loop is self.loops[-1]:
                    return interrupt
                loop.catches = True
                break
            if loop.kind == "tablerow":
                break
        exception = "_BreakLoop" if interrupt == "break" else "_ContinueLoop"
        return f"raise {exception}({interrupt!r})"

    def interrupts_may_arrive(self) -> None:
        """Note that an exception interrupt (from an ``include``) may reach the loop."""
        for loop in reversed(self.loops):
            if loop.kind != "repeat":
                loop.catches = True
                return
