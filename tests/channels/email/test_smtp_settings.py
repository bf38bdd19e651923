"""`smtp://` / `smtps://` URLs into SmtpSettings, and SMTP replies into SendResults."""

from __future__ import annotations

import pytest
from aiosmtplib import SMTPReadTimeoutError, SMTPResponseException, SMTPServerDisconnected

from clarion.channels.base import SendStatus
from clarion.channels.email import InvalidSmtpUrl, SmtpSettings, parse_smtp_url
from clarion.channels.email.replies import result_for_error, result_for_reply


def test_plain_url_with_credentials_and_defaults() -> None:
    settings = parse_smtp_url("smtp://mailer:p%40ss%3Aword@mail.example.com:2525")
    assert settings == SmtpSettings(
        host="mail.example.com", port=2525, username="mailer", password="p@ss:word"
    )
    assert (settings.tls, settings.pool_size, settings.timeout) == ("none", 4, 30.0)
    assert "p@ss" not in repr(settings)
    assert settings.redacted_url() == "smtp://mailer:***@mail.example.com:2525"


@pytest.mark.parametrize(
    ("url", "tls", "port"),
    [
        ("smtp://h", "none", 25),
        ("smtp://h?starttls=true", "starttls", 587),
        ("smtp://h:25?starttls=yes", "starttls", 25),
        ("smtps://h", "implicit", 465),
        ("smtps://h:2465", "implicit", 2465),
        ("smtp://h?starttls=false", "none", 25),
    ],
)
def test_tls_modes_and_default_ports(url: str, tls: str, port: int) -> None:
    settings = parse_smtp_url(url)
    assert (settings.tls, settings.port) == (tls, port)


def test_query_parameters() -> None:
    settings = parse_smtp_url(
        "smtp://[::1]:25?from=Shop%20%3Cshop%40example.com%3E&envelope_from=b%40example.com"
        "&pool=8&timeout=2.5&verify=false&cafile=/etc/ca.pem&helo=mx.example.com"
        "&message_id_domain=mail.example.com"
    )
    assert settings.host == "::1"
    assert settings.default_sender == "Shop <shop@example.com>"
    assert settings.envelope_from == "b@example.com"
    assert (settings.pool_size, settings.timeout, settings.verify_tls) == (8, 2.5, False)
    assert (settings.ca_file, settings.helo) == ("/etc/ca.pem", "mx.example.com")
    assert settings.message_id_domain == "mail.example.com"
    assert settings.redacted_url() == "smtp://[::1]:25"


@pytest.mark.parametrize(
    "url",
    [
        "http://h",
        "smtp://",
        "smtp://h:notaport",
        "smtp://h?pool=0",
        "smtp://h?pool=many",
        "smtp://h?timeout=-1",
        "smtp://h?starttls=maybe",
        "smtps://h?starttls=true",
        "smtp://h?bogus=1",
        "smtp://h?pool=1&pool=2",
    ],
)
def test_bad_urls_are_refused_with_a_clear_error(url: str) -> None:
    with pytest.raises(InvalidSmtpUrl):
        parse_smtp_url(url)


@pytest.mark.parametrize(
    ("code", "status"),
    [(421, SendStatus.TRANSIENT), (450, SendStatus.TRANSIENT), (451, SendStatus.TRANSIENT),
     (452, SendStatus.TRANSIENT), (550, SendStatus.PERMANENT), (552, SendStatus.PERMANENT),
     (553, SendStatus.PERMANENT), (554, SendStatus.PERMANENT), (535, SendStatus.PERMANENT)],
)  # fmt: skip
def test_reply_codes_classify_by_class(code: int, status: SendStatus) -> None:
    result = result_for_reply(code, "x.y.z text", stage="rcpt")
    assert result.status is status
    assert result.details["smtp_code"] == code


def test_errors_without_a_server_reply_are_transient() -> None:
    for exc in (
        SMTPServerDisconnected("Connection lost"),
        SMTPReadTimeoutError("Timed out"),
        ConnectionRefusedError("refused"),
        SMTPResponseException(-1, "Malformed SMTP response line"),
    ):
        result = result_for_error(exc, stage="data")
        assert (result.status, result.details["stage"]) == (SendStatus.TRANSIENT, "data")
    assert result_for_error(SMTPResponseException(550, "5.7.1 no"), stage="mail").status is (
        SendStatus.PERMANENT
    )
