"""What every node of an audience definition shares."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=200)]


class Part(BaseModel):
    """A part of a definition: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NodeBase(Part):
    """A node of the tree; `KIND` is its one key."""

    KIND: ClassVar[str] = ""
