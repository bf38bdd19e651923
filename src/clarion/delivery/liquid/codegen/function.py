"""The state of compiling one template into one Python function.

Node and expression handlers (the ``tags_*`` and ``expressions`` modules) write code
through a ``FunctionCompiler``: it knows the output buffer being written, the loop
being compiled, the names bound in Python locals and how deep the scope is.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from liquid import Environment
from liquid.ast import BlockNode, Node
from liquid.expression import Expression
from liquid.token import Token

from clarion.delivery.liquid.codegen.analysis import TemplateAnalysis
from clarion.delivery.liquid.codegen.scope import LexicalScope
from clarion.delivery.liquid.codegen.writer import CodeWriter
from clarion.delivery.liquid.errors import UnsupportedConstruct
from clarion.delivery.liquid.runtime import byte_length

__all__ = ["BASE_SCOPE_SIZE", "Buffer", "FunctionCompiler", "LoopContext", "Variant"]

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


@dataclass(frozen=True, slots=True)
class Buffer:
    """Where written text goes: Python names of the list, its append and byte counting.

    ``append`` is ``None`` for python-liquid's ``NullIO`` (blank blocks): nothing is
    written and nothing counts. ``size`` and ``limit`` are set when output is limited.
    """

    parts: str | None
    append: str | None
    size: str | None = None
    limit: str | None = None


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


NodeHandler = Callable[["FunctionCompiler", Node], None]
ExpressionHandler = Callable[["FunctionCompiler", Expression], str]

NODE_HANDLERS: dict[type[Node], NodeHandler] = {}
VALUE_HANDLERS: dict[type[Expression], ExpressionHandler] = {}


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
        self.limited = env.output_stream_limit is not None
        self.buffers: list[Buffer] = []
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
            with self.null_buffer():
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
        from .conditions import compile_truth

        return compile_truth(self, expr)

    def const(self, value: object, hint: str = "k") -> str:
        """A constant usable in generated code."""
        return self.w.const(value, hint)

    def token(self, token: Token | None) -> str:
        """A token constant, for error messages that point into the template."""
        return "None" if token is None else self.w.const(token, "tok")

    # --- output --------------------------------------------------------------------

    @property
    def buffer(self) -> Buffer:
        """The buffer being written."""
        return self.buffers[-1]

    def write_text(self, text: str) -> None:
        """Write literal template text."""
        buf = self.buffer
        if buf.append is None or not text:
            return
        if buf.size is not None:
            self.w.line(f"{buf.size} += {byte_length(text)}")
            self._check_size(buf)
        self.w.line(f"{buf.append}({text!r})")

    def write_str(self, code: str) -> None:
        """Write the ``str`` that Python expression ``code`` evaluates to."""
        buf = self.buffer
        if buf.append is None:
            self.w.line(code)  # evaluated for its errors, written nowhere
            return
        if buf.size is None:
            self.w.line(f"{buf.append}({code})")
            return
        text = self.w.temp("s")
        self.w.line(f"{text} = {code}")
        with self.w.block(f"if {text}:"):
            self.w.line(f"{buf.size} += _blen({text})")
            self._check_size(buf)
        self.w.line(f"{buf.append}({text})")

    def _check_size(self, buf: Buffer) -> None:
        with self.w.block(f"if {buf.size} > {buf.limit}:"):
            self.w.line("raise _output_limit_error()")

    @contextmanager
    def null_buffer(self) -> Iterator[None]:
        """Compile the body of the ``with`` for python-liquid's ``NullIO``."""
        self.buffers.append(Buffer(None, None))
        try:
            yield
        finally:
            self.buffers.pop()

    @contextmanager
    def new_buffer(self) -> Iterator[Buffer]:
        """A fresh buffer, as ``RenderContext.get_buffer`` makes for capture and ifchanged.

        Its limit is the output limit minus what the enclosing buffer holds.
        """
        outer = self.buffer
        parts = self.w.temp("buf")
        append = self.w.temp("w")
        if self.limited:
            carry = outer.size if outer.size is not None else "0"
            limit = self.w.temp("lim")
            self.w.line(f"{limit} = {self.env.output_stream_limit!r} - {carry}")
            self.w.line(f"{parts} = _OutputBuffer({limit})")
            buf = Buffer(parts, append, self.w.temp("sz"), limit)
            self.w.line(f"{buf.size} = 0")
        else:
            self.w.line(f"{parts} = []")
            buf = Buffer(parts, append)
        self.w.line(f"{append} = {parts}.append")
        self.buffers.append(buf)
        try:
            yield buf
        finally:
            self.buffers.pop()

    @contextmanager
    def sharing_buffer(self) -> Iterator[str]:
        """Hand the current buffer to another function (a fragment) for the ``with`` body.

        Yields the Python name of the buffer object. With limited output, the running
        size goes into the object before the call and comes back after it.
        """
        buf = self.buffer
        if buf.parts is None:
            raise UnsupportedConstruct("fragment rendered into a blank block")
        if buf.size is not None:
            self.w.line(f"{buf.parts}.size = {buf.size}")
        yield buf.parts
        if buf.size is not None:
            self.w.line(f"{buf.size} = {buf.parts}.size")

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
