"""API key tokens: 256 random bits behind a short, recognisable lookup prefix.

A token reads `sk_<10 chars>_<43 chars>` (secret) or `wk_...` (write). The first
two parts are the lookup prefix, stored in clear and shown in key lists; only
the SHA-256 of the whole token is stored. SHA-256 suffices for 256-bit random
secrets, and costs microseconds where a password hash would cost ~100 ms on
every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from clarion.model.roles import KeyKind, Role
from clarion.model.workspaces import ApiKey
from clarion.storage.base import Tx

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KIND_MARK = {KeyKind.SECRET: "sk", KeyKind.WRITE: "wk"}


def _base62(data: bytes, width: int) -> str:
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(_ALPHABET[digit])
    return "".join(out)


def sha256_hex(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: KeyKind) -> tuple[str, str]:
    """A new token and its lookup prefix."""
    prefix = f"{_KIND_MARK[kind]}_{_base62(secrets.token_bytes(8), 10)}"
    return f"{prefix}_{_base62(secrets.token_bytes(32), 43)}", prefix


def parse_token(token: str) -> str | None:
    """The lookup prefix of a well-formed token, or None."""
    parts = token.split("_")
    if len(parts) != 3 or parts[0] not in ("sk", "wk") or len(parts[1]) != 10:
        return None
    if len(parts[2]) != 43 or not all(c in _ALPHABET for c in parts[1] + parts[2]):
        return None
    return f"{parts[0]}_{parts[1]}"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: the token is shown this once and never stored."""

    key: ApiKey
    token: str


def issue_key(
    tx: Tx, workspace_id: str, kind: KeyKind, role: Role | None, name: str, now: datetime
) -> IssuedKey:
    """Create a key in `tx`. Write keys have no role; secret keys must have one."""
    if kind is KeyKind.SECRET and role is None:
        raise ValueError("a secret key needs a role")
    if kind is KeyKind.WRITE:
        role = None
    token, prefix = new_token(kind)
    key = tx.keys.insert(
        workspace_id,
        kind=kind,
        role=role,
        name=name,
        prefix=prefix,
        token_sha256=sha256_hex(token),
        now=now,
    )
    return IssuedKey(key, token)
