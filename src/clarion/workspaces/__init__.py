"""Workspaces and API keys: creating tenants, issuing keys, authenticating callers."""

from clarion.workspaces.auth import Authenticator
from clarion.workspaces.keys import IssuedKey, issue_key, parse_token
from clarion.workspaces.service import NewWorkspace, create_workspace

__all__ = [
    "Authenticator",
    "IssuedKey",
    "NewWorkspace",
    "create_workspace",
    "issue_key",
    "parse_token",
]
