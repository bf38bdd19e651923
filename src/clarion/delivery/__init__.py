"""The delivery pipeline.

Consent, suppression, caps, quiet hours, send time, throttle, rendering, outbox, tracking.
"""

from clarion.delivery.dispatcher import Dispatcher, DispatchStats
from clarion.delivery.outbox import enqueue
from clarion.delivery.providers import ProviderRegistry
from clarion.delivery.runner import DispatcherLoop

__all__ = ["DispatchStats", "Dispatcher", "DispatcherLoop", "ProviderRegistry", "enqueue"]
