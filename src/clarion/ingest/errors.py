"""Ingestion errors.

InvalidInput (clarion.model.errors)
└── InvalidEvent     one message breaks the Segment spec; `field` names where
TooLarge (clarion.model.errors)
└── BodyTooLarge     a request (after decompression) or an event is over its limit
"""

from __future__ import annotations

from clarion.model.errors import InvalidInput, TooLarge


class InvalidEvent(InvalidInput):
    """A message that cannot be accepted."""

    code = "invalid_event"


class BodyTooLarge(TooLarge):
    """A request body, once decompressed, or one event is over its size limit."""

    code = "too_large"
