"""Static list audiences: members uploaded as a CSV of identities.

The first row names identity namespaces (`email`, `phone`, `user_id`,
`anonymous_id` or a custom one); each further row is one member, known by any
of its non-empty cells. Values are kept as written apart from surrounding
spaces; the profiles package normalises them as it does for any identity.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from clarion.model.documents import Problem

NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class ListMember:
    """One uploaded member: its identities `(namespace, value)` and CSV line."""

    identities: tuple[tuple[str, str], ...]
    line: int


def parse_member_csv(text: str, max_rows: int = MAX_ROWS) -> tuple[list[ListMember], list[Problem]]:
    """The members of an uploaded CSV, and problems naming the line at fault."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        return [], [Problem("line 1", "the first row names identity namespaces (e.g. email)")]
    namespaces = [cell.strip().lower() for cell in header]
    bad = [n for n in namespaces if not NAMESPACE.match(n)]
    if bad:
        return [], [Problem("line 1", f"not identity namespaces: {', '.join(map(repr, bad))}")]
    members: list[ListMember] = []
    problems: list[Problem] = []
    for line, row in enumerate(rows, start=2):
        if len(members) >= max_rows:
            problems.append(Problem(f"line {line}", f"more than {max_rows} members"))
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(namespaces):
            problems.append(Problem(f"line {line}", "more cells than header columns"))
            continue
        identities = tuple(
            (namespace, cell.strip())
            for namespace, cell in zip(namespaces, row, strict=False)
            if cell.strip()
        )
        members.append(ListMember(identities, line))
    return members, problems
