"""Journeys: the pure step function, node handlers, router, timers, runtime and lifecycle."""
