"""The delivery pipeline.

Consent, suppression, caps, quiet hours, send time, throttle, rendering, outbox, tracking.
"""
