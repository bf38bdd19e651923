"""Amazon SNS HTTP(S) messages: signature verification and subscription confirmation.

The signing certificate is fetched only from `https://sns.<region>.amazonaws.com/...pem`
(through an outbound client opened for the call and closed after it: requests
may come on different event loops) and cached; the signature (SignatureVersion 1:
SHA1withRSA, 2: SHA256withRSA) covers the documented fields in order.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from clarion.outbound import OutboundClient, OutboundResponse

SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


class SnsError(Exception):
    """A message that is not a genuine SNS message (a 400 or 401 at the edge)."""


def is_sns_url(url: str, suffix: str = "") -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and bool(SNS_HOST.match(parts.hostname or ""))
        and parts.port in (None, 443)
        and parts.path.endswith(suffix)
    )


def string_to_sign(message: dict[str, Any]) -> bytes:
    kind = message.get("Type")
    fields = NOTIFICATION_FIELDS if kind == "Notification" else CONFIRMATION_FIELDS
    parts = []
    for name in fields:
        if name in message and message[name] is not None:
            parts.append(f"{name}\n{message[name]}\n")
    return "".join(parts).encode()


class SnsVerifier:
    """Verifies SNS messages; keeps fetched certificates."""

    def __init__(self, clients: Callable[[], OutboundClient]) -> None:
        self._clients = clients
        self._certs: dict[str, x509.Certificate] = {}

    async def _get(self, url: str) -> OutboundResponse:
        client = self._clients()
        try:
            return await client.request("GET", url, max_bytes=64_000)
        finally:
            await client.aclose()

    async def certificate(self, url: str) -> x509.Certificate:
        if not is_sns_url(url, ".pem"):
            raise SnsError("SigningCertURL is not an https sns.<region>.amazonaws.com .pem URL")
        cert = self._certs.get(url)
        if cert is None:
            response = await self._get(url)
            if not response.ok:
                raise SnsError(f"the signing certificate answered {response.status_code}")
            try:
                cert = x509.load_pem_x509_certificate(response.content)
            except ValueError as exc:
                raise SnsError("the signing certificate is not a PEM certificate") from exc
            self._certs[url] = cert
        return cert

    async def verify(self, message: dict[str, Any]) -> None:
        """Raise SnsError unless the message carries a valid SNS signature."""
        if message.get("Type") not in (
            "Notification",
            "SubscriptionConfirmation",
            "UnsubscribeConfirmation",
        ):
            raise SnsError("not an SNS message type")
        version = str(message.get("SignatureVersion", "1"))
        algorithm: hashes.HashAlgorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        if version not in ("1", "2"):
            raise SnsError("unknown SignatureVersion")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except ValueError as exc:
            raise SnsError("the signature is not base64") from exc
        cert = await self.certificate(str(message.get("SigningCertURL", "")))
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SnsError("the signing certificate does not hold an RSA key")
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
        except InvalidSignature as exc:
            raise SnsError("the SNS signature does not verify") from exc

    async def confirm(self, message: dict[str, Any]) -> None:
        url = str(message.get("SubscribeURL", ""))
        if not is_sns_url(url):
            raise SnsError("SubscribeURL is not an https sns.<region>.amazonaws.com URL")
        response = await self._get(url)
        if not response.ok:
            raise SnsError(f"confirming the subscription answered {response.status_code}")
