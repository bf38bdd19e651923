"""Inbound surfaces: in-app messages, content cards, web and code-based experiences.

A message on an inbound channel makes content eligible for a profile on a
surface (`SurfaceProvider`); apps fetch it (`service.eligible`) under the access
rules of `access` (write key + identity token, or a secret key), and report
impressions, clicks and dismissals (`service.act`) as outcome events.
"""

from clarion.surfaces.access import (
    IdentityRefused,
    Viewer,
    identity_secret,
    make_identity_token,
    resolve_viewer,
)
from clarion.surfaces.provider import INBOUND_CHANNELS, SurfaceProvider

__all__ = [
    "INBOUND_CHANNELS",
    "IdentityRefused",
    "SurfaceProvider",
    "Viewer",
    "identity_secret",
    "make_identity_token",
    "resolve_viewer",
]
