"""How many messages a dispatcher claims at once: as many as it can send within its lease.

A claim is a lease: a message not recorded before the lease ends is claimed again
by another dispatcher and sent twice. Larger claims cost less per message (one
commit, and the pages a batch dirties written once, for more messages), so the
dispatcher claims as many as its recent pace lets it send and record in a quarter
of the lease, up to its `batch_size`. A provider answering in a second with 32
requests in flight then gets claims of ~1,000 messages (30 s), a write-in
provider like the capture one the full `batch_size`.
"""

from __future__ import annotations

FIRST_BATCH = 500
"""Messages in a claim before any pace is known."""

SHARE_OF_LEASE = 0.25
"""The part of the lease a batch may take, at the pace of the batches before it."""


class BatchPace:
    """The seconds a claimed message has recently taken (claim to record), smoothed."""

    def __init__(self, lease_seconds: float) -> None:
        self._budget = lease_seconds * SHARE_OF_LEASE
        self._per_message: float | None = None

    def observe(self, messages: int, seconds: float) -> None:
        """A batch of `messages` took `seconds` from its claim to its record's commit."""
        if messages <= 0:
            return
        pace = max(0.0, seconds) / messages
        # Half the weight on the newest batch: a provider that slows down shrinks the
        # next claim at once, one slow batch does not undo a long fast run.
        self._per_message = pace if self._per_message is None else (self._per_message + pace) / 2

    def size(self, limit: int) -> int:
        """Messages to claim next: at most `limit`, at least one."""
        if self._per_message is None:
            return max(1, min(limit, FIRST_BATCH))
        if self._per_message == 0:
            return max(1, limit)
        return max(1, min(limit, int(self._budget / self._per_message)))
