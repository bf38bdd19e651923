"""DKIM keys: loading, generating, and the DNS TXT record that publishes the public half.

The CLI exposes `generate_dkim_key` and `DkimKey.zone_line` so an operator can
create a key and paste the record into their zone.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from clarion.channels.email.errors import InvalidDkimKey

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
"""The key types DKIM signing supports."""

Algorithm = Literal["rsa", "ed25519"]


def load_private_key(pem: str | bytes) -> PrivateKey:
    """Load an RSA or Ed25519 private key from unencrypted PEM text."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidDkimKey(f"cannot load the DKIM private key: {exc}", field="dkim") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InvalidDkimKey("DKIM keys must be RSA or Ed25519", field="dkim")
    return key


def public_key_record(key: PrivateKey) -> str:
    """The TXT record text, e.g. `v=DKIM1; k=rsa; p=MIIBIjAN...`."""
    public = key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A private key in PEM with its public DNS record, for one selector and domain."""

    algorithm: Algorithm
    private_pem: str
    dns_record: str
    """The TXT record's text (`v=DKIM1; k=...; p=...`)."""

    def dns_name(self, selector: str, domain: str) -> str:
        """Where the record is published: `{selector}._domainkey.{domain}`."""
        return f"{selector}._domainkey.{domain}"

    def txt_strings(self) -> list[str]:
        """The record split into DNS character-strings of at most 255 octets."""
        record = self.dns_record
        return [record[i : i + 255] for i in range(0, len(record), 255)]

    def zone_line(self, selector: str, domain: str) -> str:
        """A zone-file line, e.g. `s1._domainkey.example.com. IN TXT ("v=DKIM1; ..." "...")`."""
        strings = " ".join(f'"{part}"' for part in self.txt_strings())
        return f"{self.dns_name(selector, domain)}. IN TXT ( {strings} )"


def generate_dkim_key(algorithm: Algorithm = "rsa", *, bits: int = 2048) -> DkimKey:
    """A new key pair: RSA (`bits`, at least 1024; 2048 recommended) or Ed25519.

    Ed25519 signatures (RFC 8463) are small and fast but not yet verified by
    every receiver; publishing both under two selectors and signing with both
    is the cautious path.
    """
    key: PrivateKey
    if algorithm == "rsa":
        if bits < 1024:
            raise InvalidDkimKey("RSA DKIM keys must have at least 1024 bits", field="bits")
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    elif algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise InvalidDkimKey(f"unknown DKIM algorithm {algorithm!r}", field="algorithm")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return DkimKey(algorithm, pem, public_key_record(key))
