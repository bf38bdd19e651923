"""Channel provider configuration per workspace (admin)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from clarion.api.auth import require
from clarion.api.services import Services, get_services
from clarion.model.consent import CHANNELS
from clarion.model.errors import InvalidInput
from clarion.model.roles import Role
from clarion.model.workspaces import Principal

router = APIRouter(prefix="/v1/channels", tags=["channels"])
admin = require(Role.ADMIN)
_SECRET_KEY = re.compile(r"pass|secret|token|key|auth", re.IGNORECASE)


class ChannelConfig(BaseModel):
    provider: str = Field(description="capture, smtp, ...")
    settings: dict[str, Any] = Field(default_factory=dict)


def redact(value: Any, key: str = "") -> Any:
    """Settings as shown back: secrets replaced, passwords in URLs hidden."""
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, str):
        if _SECRET_KEY.search(key):
            return "********"
        return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1********@", value)
    return value


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    return channel


@router.put("/{channel}")
def put_channel(
    channel: str,
    body: ChannelConfig,
    principal: Principal = Depends(admin),
    services: Services = Depends(get_services),
) -> Any:
    """Choose the provider of a channel: `{"provider": "smtp", "settings": {"url": ...}}`."""
    services.providers.validate(body.provider, body.settings)
    with services.db.write() as tx:
        tx.set_channel_config(
            principal.workspace_id,
            _channel(channel),
            body.provider,
            body.settings,
            services.clock.now(),
        )
    return {"channel": channel, "provider": body.provider, "settings": redact(body.settings)}


@router.get("/{channel}")
def get_channel(
    channel: str, principal: Principal = Depends(admin), services: Services = Depends(get_services)
) -> Any:
    with services.db.read() as tx:
        configs = tx.channel_configs(principal.workspace_id)
    provider, settings = configs.get(_channel(channel), ("capture", {}))
    return {"channel": channel, "provider": provider, "settings": redact(settings)}
