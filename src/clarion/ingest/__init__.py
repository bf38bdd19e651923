"""Segment-spec intake: validate, deduplicate (messageId), append to the event log."""

from clarion.ingest.segment import Intake, Problem, parse_message
from clarion.ingest.service import IngestResult, append_events, parse_all

__all__ = ["IngestResult", "Intake", "Problem", "append_events", "parse_all", "parse_message"]
