"""Segment-spec intake: validate, deduplicate (messageId), append to the event log."""
