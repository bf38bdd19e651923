"""Which provider sends a workspace's messages on a channel.

A workspace's own configuration (`PUT /v1/channels/{channel}`) wins; then
server-wide defaults (`CLARION_SMTP_URL` makes email go out by SMTP); then the
capture provider. Providers are built once per configuration and reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from clarion.channels.base import Provider
from clarion.channels.capture import CaptureProvider
from clarion.clock import Clock
from clarion.model.errors import InvalidInput
from clarion.storage.base import Database

ProviderFactory = Callable[[dict[str, Any], Clock], Provider]
"""Builds a provider from a channel's settings (raises InvalidInput naming the bad field)."""


def _smtp(settings: dict[str, Any], clock: Clock) -> Provider:
    """`{"url": "smtp://...", "dkim": {"domain", "selector", "private_key"} or a list}`."""
    from clarion.channels.email import DkimSigner, smtp_provider_from_url

    url = settings.get("url")
    if not isinstance(url, str):
        raise InvalidInput("the smtp provider needs settings.url", field="settings.url")
    raw = settings.get("dkim") or []
    entries = [raw] if isinstance(raw, dict) else raw
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise InvalidInput(
            "dkim is an object (or a list of them) with domain, selector and private_key",
            field="settings.dkim",
        )
    try:
        signers = [
            DkimSigner(
                domain=str(e.get("domain")),
                selector=str(e.get("selector")),
                private_key=str(e.get("private_key")),
            )
            for e in entries
        ]
        return smtp_provider_from_url(url, dkim=signers or None, clock=clock)
    except InvalidInput:
        raise
    except Exception as exc:  # the email package's own errors name what is wrong
        raise InvalidInput(str(exc), field="settings") from exc


BUILTIN_FACTORIES: dict[str, ProviderFactory] = {"smtp": _smtp}
"""Provider names a workspace may configure (channels add theirs)."""


class ProviderRegistry:
    """Resolves (workspace, channel) to a ready provider."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        defaults: dict[str, tuple[str, dict[str, Any]]] | None = None,
        factories: dict[str, ProviderFactory] | None = None,
    ) -> None:
        self.capture = CaptureProvider(db, clock)
        self._clock = clock
        self._defaults = defaults or {}
        self._factories = {**BUILTIN_FACTORIES, **(factories or {})}
        self._built: dict[str, Provider] = {}

    def register(self, name: str, factory: ProviderFactory) -> None:
        """Make a provider name configurable (channels add theirs)."""
        self._factories[name] = factory

    def set_default(self, channel: str, name: str, settings: dict[str, Any]) -> None:
        """The provider of `channel` for workspaces that configure none (surfaces for inbound)."""
        self._defaults.setdefault(channel, (name, settings))

    def names(self) -> list[str]:
        return sorted({"capture", *self._factories})

    def validate(self, provider: str, settings: dict[str, Any]) -> None:
        """Raise InvalidInput unless `provider` can be built from `settings`."""
        if provider == "capture":
            return
        if provider not in self._factories:
            raise InvalidInput(
                f"unknown provider {provider!r}; known: {', '.join(self.names())}", field="provider"
            )
        self._factories[provider](settings, self._clock)

    def resolve(self, channel: str, configs: dict[str, tuple[str, dict[str, Any]]]) -> Provider:
        """The provider for `channel` given a workspace's channel configurations."""
        name, settings = configs.get(channel) or self._defaults.get(channel) or ("capture", {})
        if name == "capture":
            return self.capture
        key = hashlib.sha256(
            orjson.dumps([name, settings], option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        provider = self._built.get(key)
        if provider is None:
            provider = self._factories[name](settings, self._clock)
            self._built[key] = provider
        return provider

    async def close(self) -> None:
        for provider in self._built.values():
            await provider.close()
        self._built.clear()
