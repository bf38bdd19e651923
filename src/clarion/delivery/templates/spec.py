"""What a template of each channel contains.

Every string field listed as Liquid is a Liquid template; fields listed as
JSON hold objects whose string leaves are Liquid templates. HTML fields are
rendered with HTML autoescaping (a trait holding `<script>` arrives as text);
write `{{ value | safe }}` where markup is intended.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """The fields of one channel's templates."""

    liquid: tuple[str, ...]
    required: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    json: tuple[str, ...] = ()
    html: tuple[str, ...] = ()
    plain: tuple[str, ...] = ()


_COMMON_PLAIN = ("subscription_group", "category", "description")

CHANNELS: dict[str, ChannelSpec] = {
    "email": ChannelSpec(
        liquid=("from", "reply_to", "subject", "preheader", "html", "mjml", "text"),
        required=("from", "subject"),
        one_of=(("html", "mjml", "text"),),
        html=("html", "mjml"),
        plain=_COMMON_PLAIN,
    ),
    "sms": ChannelSpec(liquid=("body",), required=("body",), plain=_COMMON_PLAIN),
    "push": ChannelSpec(
        liquid=("title", "body", "image", "deep_link"),
        required=("body",),
        json=("data",),
        plain=(*_COMMON_PLAIN, "sound", "badge", "collapse_id"),
    ),
    "in_app": ChannelSpec(
        liquid=("html",),
        one_of=(("payload", "html"),),
        json=("payload",),
        html=("html",),
        plain=(*_COMMON_PLAIN, "layout", "priority", "expires"),
    ),
    "content_card": ChannelSpec(
        liquid=("title", "body", "image", "link"),
        required=("title",),
        plain=(*_COMMON_PLAIN, "pinned", "priority", "expires"),
    ),
    "web": ChannelSpec(
        liquid=("html",),
        required=("surface",),
        one_of=(("html", "json"),),
        json=("json",),
        html=("html",),
        plain=(*_COMMON_PLAIN, "surface", "priority", "expires"),
    ),
    "code": ChannelSpec(
        liquid=("html",),
        required=("surface",),
        one_of=(("html", "json"),),
        json=("json",),
        html=("html",),
        plain=(*_COMMON_PLAIN, "surface", "priority", "expires"),
    ),
    "direct_mail": ChannelSpec(
        liquid=(),
        json=("fields",),
        required=("fields",),
        plain=(*_COMMON_PLAIN, "address_fields"),
    ),
    "webhook": ChannelSpec(
        liquid=("url", "body"),
        required=("url",),
        json=("headers",),
        plain=(*_COMMON_PLAIN, "method"),
    ),
}
"""Template fields per channel (the channels of PRODUCT.md, plus webhooks)."""
