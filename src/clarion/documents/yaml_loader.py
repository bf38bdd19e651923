"""YAML documents read with YAML 1.2's booleans: only `true` and `false`.

PyYAML follows YAML 1.1, where `on`, `off`, `yes`, `no` (and `NO`, Norway's
country code) are booleans: `{on: customer_id}` would lose its key and
`[SE, NO, DK]` would hold `false`. Definitions are read the 1.2 way.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class Yaml12Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` with YAML 1.2 core-schema booleans."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_documents(text: str | bytes) -> list[Any]:
    """Every non-empty document of a YAML stream."""
    return [d for d in yaml.load_all(text, Loader=Yaml12Loader) if d is not None]
