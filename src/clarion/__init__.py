"""Clarion: a self-hosted customer engagement orchestrator."""

__version__ = "0.1.0"
