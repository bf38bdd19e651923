"""Profiles: identity resolution and merge (the identity stage), consent, erasure."""

from clarion.profiles.rules import IdentityRules
from clarion.profiles.stage import IDENTITY_STAGE, IdentityStage, identity_hash

__all__ = ["IDENTITY_STAGE", "IdentityRules", "IdentityStage", "identity_hash"]
