"""Clarion: a self-hosted customer engagement orchestrator."""

from clarion.compiled import guard

__version__ = "0.1.0"

guard()  # before any compiled module can be imported: a stale build is not used
