"""Public test kit: a fake clock and helpers for tests of Clarion and of code built on it."""

from clarion.testing.clock import FakeClock

__all__ = ["FakeClock"]
