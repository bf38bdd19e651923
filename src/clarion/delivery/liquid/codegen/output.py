"""Code that writes to output buffers, counting bytes as python-liquid's limited buffers do.

python-liquid renders into a ``StringIO``, or a ``LimitedStringIO`` when an output limit
is set (each non-empty write adds its UTF-8 length and raises past the limit), or a
``NullIO`` for blank blocks. Compiled code appends to a list instead and keeps the byte
count in a local variable, so that the same write raises the same error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from clarion.delivery.liquid.codegen.writer import CodeWriter
from clarion.delivery.liquid.errors import UnsupportedConstruct
from clarion.delivery.liquid.runtime import byte_length

__all__ = ["Buffer", "OutputCode"]


@dataclass(frozen=True, slots=True)
class Buffer:
    """Python names of a buffer: the list, its ``append``, and the byte count and limit.

    ``append`` is ``None`` for ``NullIO`` (blank blocks): nothing is written and nothing
    counts. ``size`` and ``limit`` are set when output is limited.
    """

    parts: str | None
    append: str | None
    size: str | None = None
    limit: str | None = None


class OutputCode:
    """Writes output code for the buffer being rendered into."""

    def __init__(self, writer: CodeWriter, output_limit: int | None) -> None:
        self.w = writer
        self.output_limit = output_limit
        self.limited = output_limit is not None
        self._buffers: list[Buffer] = []

    @property
    def buffer(self) -> Buffer:
        """The buffer being written."""
        return self._buffers[-1]

    def start(self, parts: str) -> None:
        """Write the function's prologue for its ``buf`` argument and make it current."""
        append = "_w"
        self.w.line(f"{append} = {parts}.append")
        if self.limited:
            self.w.line(f"_sz = {parts}.size")
            self.w.line(f"_lim = {parts}.limit")
            self._buffers.append(Buffer(parts, append, "_sz", "_lim"))
        else:
            self._buffers.append(Buffer(parts, append))

    def finish(self) -> None:
        """Write the epilogue: the byte count goes back into the buffer object."""
        buf = self.buffer
        if buf.size is not None:
            self.w.line(f"{buf.parts}.size = {buf.size}")

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
            encoded = f"len({text}) if {text}.isascii() else len({text}.encode('utf-8'))"
            self.w.line(f"{buf.size} += {encoded}")
            self._check_size(buf)
        self.w.line(f"{buf.append}({text})")

    def _check_size(self, buf: Buffer) -> None:
        with self.w.block(f"if {buf.size} > {buf.limit}:"):
            self.w.line("raise _output_limit_error()")

    @contextmanager
    def null(self) -> Iterator[None]:
        """Compile the body of the ``with`` for ``NullIO``."""
        self._buffers.append(Buffer(None, None))
        try:
            yield
        finally:
            self._buffers.pop()

    @contextmanager
    def fresh(self) -> Iterator[Buffer]:
        """A new buffer, as ``RenderContext.get_buffer`` makes for capture and ifchanged.

        Its limit is the output limit minus what the enclosing buffer holds.
        """
        outer = self.buffer
        parts, append = self.w.temp("buf"), self.w.temp("w")
        if self.limited:
            carry = outer.size if outer.size is not None else "0"
            limit = self.w.temp("lim")
            self.w.line(f"{limit} = {self.output_limit!r} - {carry}")
            self.w.line(f"{parts} = _OutputBuffer({limit})")
            buf = Buffer(parts, append, self.w.temp("sz"), limit)
            self.w.line(f"{buf.size} = 0")
        else:
            self.w.line(f"{parts} = []")
            buf = Buffer(parts, append)
        self.w.line(f"{append} = {parts}.append")
        self._buffers.append(buf)
        try:
            yield buf
        finally:
            self._buffers.pop()

    @contextmanager
    def shared(self) -> Iterator[str]:
        """Hand the current buffer to another function (a fragment) in the ``with`` body.

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
