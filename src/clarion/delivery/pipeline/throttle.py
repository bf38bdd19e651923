"""Throttling: per-provider and per-campaign rate limits, as token buckets.

A message without a token waits (it is deferred to when one will be free); that
is pacing, not an outcome. Buckets live in the dispatcher, across batches, and
run on the pipeline's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from clarion.clock import to_micros
from clarion.delivery.pipeline.candidate import BaseStage, Candidate, Decision, StageContext


@dataclass
class TokenBucket:
    """`rate` tokens per second, holding at most `burst`."""

    rate: float
    burst: float
    tokens: float
    updated_us: int

    def refill(self, now_us: int) -> None:
        elapsed = max(0, now_us - self.updated_us) / 1e6
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated_us = now_us

    def wait_seconds(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate)


class ThrottleStage(BaseStage):
    """Admits messages while their buckets have tokens; defers the rest."""

    name = "throttle"

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def _bucket(self, key: str, rate: float, now_us: int) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = TokenBucket(rate, max(1.0, rate), max(1.0, rate), now_us)
            self._buckets[key] = bucket
        bucket.refill(now_us)
        return bucket

    def _limits(self, ctx: StageContext, candidate: Candidate) -> list[tuple[str, float]]:
        item = candidate.item
        limits = []
        channels = ctx.settings.get("channels") or {}
        config = channels.get(item.intent.channel) if isinstance(channels, dict) else None
        rate = config.get("rate_per_second") if isinstance(config, dict) else None
        if isinstance(rate, int | float) and rate > 0:
            limits.append((f"{ctx.workspace_id}:channel:{item.intent.channel}", float(rate)))
        if item.throttle_key and item.throttle_rate and item.throttle_rate > 0:
            limits.append((f"{ctx.workspace_id}:{item.throttle_key}", item.throttle_rate))
        return limits

    def check(self, ctx: StageContext, candidate: Candidate) -> Decision | None:
        now_us = to_micros(ctx.now)
        buckets = [self._bucket(key, rate, now_us) for key, rate in self._limits(ctx, candidate)]
        short = [b for b in buckets if b.tokens < 1]
        if short:
            wait = max(b.wait_seconds() for b in short)
            return Decision("defer", "throttled", ctx.now + timedelta(seconds=wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None
