"""Plain text from HTML, for the text/plain part of an email.

Works on template sources as well as on rendered HTML: Liquid tags are text to
the HTML parser and pass through unchanged, so the text part of a template
version is derived once, then rendered like any other field.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "table",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "center",
    }
)
_SKIP = frozenset({"style", "script", "head", "title"})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._links: list[str | None] = []
        self._link_text: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))
            self._link_text.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self._links:
            href = self._links.pop()
            text = "".join(self._link_text.pop()).strip()
            shown = (
                text
                if not href or href == text or href.startswith("#")
                else (f"{text} ({href})" if text else href)
            )
            self._emit(shown)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._emit(re.sub(r"\s+", " ", data))

    def _emit(self, text: str) -> None:
        if self._link_text:
            self._link_text[-1].append(text)
        else:
            self.parts.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text: paragraphs, line breaks, list items, links as `text (url)`."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
