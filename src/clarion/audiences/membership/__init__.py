"""Real-time audience membership: kept current from the event log, by time, and by backfills."""

from clarion.audiences.membership.backfill import backfill_pending
from clarion.audiences.membership.consumer import AUDIENCE_CONSUMER, AudienceConsumer
from clarion.audiences.membership.timers import reevaluate_due

__all__ = ["AUDIENCE_CONSUMER", "AudienceConsumer", "backfill_pending", "reevaluate_due"]
