"""Consumers of the event log and the loop that runs them."""

from clarion.processing.consumers import Consumer, ConsumerLoop, run_once

__all__ = ["Consumer", "ConsumerLoop", "run_once"]
