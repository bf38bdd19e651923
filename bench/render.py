"""Renders per second of a realistic HTML email: python-liquid against the compiled renderer.

The email is about 2 KB of HTML with ten substitutions (two through filters) and a
three-item loop (three substitutions per item). Both renderers use the same
environment, with Clarion's default resource limits, and must produce the same text.
For reference it also measures the compiled template with every limit off, and an
empty template (the fixed cost of a render). Each figure is the best of several timed
runs, pinned to one core.

    .venv/bin/python bench/render.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

from clarion.delivery.liquid import LiquidEngine, RenderLimits

EMAIL = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ campaign.subject }}</title>
<style>
  body { margin: 0; padding: 0; background: #f4f4f7; font-family: Helvetica, Arial, sans-serif; }
  .wrapper { width: 100%; background: #f4f4f7; padding: 24px 0; }
  .content { max-width: 600px; margin: 0 auto; background: #ffffff; border-radius: 6px; }
  .header { padding: 24px; text-align: center; border-bottom: 1px solid #eaeaec; }
  .body { padding: 24px; color: #51545e; font-size: 16px; line-height: 1.6; }
  .item td { padding: 8px 0; border-bottom: 1px solid #eaeaec; }
  .button { display: inline-block; padding: 12px 24px; background: #3869d4; color: #fff; }
  .footer { padding: 24px; text-align: center; color: #a8aaaf; font-size: 12px; }
</style>
</head>
<body>
<table class="wrapper" role="presentation" width="100%" cellpadding="0" cellspacing="0">
<tr><td>
<table class="content" role="presentation" width="100%" cellpadding="0" cellspacing="0">
  <tr><td class="header">
    <img src="{{ brand.logo_url }}" alt="{{ brand.name }}" width="120">
  </td></tr>
  <tr><td class="body">
    <h1>Hi {{ profile.first_name | default: "there" }},</h1>
    <p>You left a few things in your cart. They are still waiting for you, and we saved
    your selection until {{ cart.expires_on }}.</p>
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0">
    {% for item in cart.items %}
      <tr class="item">
        <td>{{ item.title }}</td>
        <td align="center">&times; {{ item.quantity }}</td>
        <td align="right">{{ item.price }}</td>
      </tr>
    {% endfor %}
    </table>
    <p>Total: <strong>{{ cart.total }}</strong></p>
    <p><a class="button" href="{{ cart.url }}">Complete your order</a></p>
    <p>Questions? Reply to this email or write to {{ brand.support_email }}.</p>
  </td></tr>
  <tr><td class="footer">
    <p>You are receiving this email because you have an account at {{ brand.name | upcase }}.</p>
    <p><a href="{{ message.unsubscribe_url }}">Unsubscribe</a></p>
  </td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""

CONTEXT = {
    "campaign": {"subject": "Your cart is waiting"},
    "brand": {
        "name": "Northwind",
        "logo_url": "https://cdn.example.com/northwind/logo.png",
        "support_email": "help@northwind.example",
    },
    "profile": {"id": "p_123", "first_name": "Ada", "email": "ada@example.com"},
    "cart": {
        "expires_on": "Friday",
        "total": "$148.00",
        "url": "https://shop.example.com/cart/abc123",
        "items": [
            {"title": "Linen shirt", "quantity": 1, "price": "$68.00"},
            {"title": "Canvas tote", "quantity": 2, "price": "$40.00"},
            {"title": "Wool socks", "quantity": 1, "price": "$40.00"},
        ],
    },
    "message": {"unsubscribe_url": "https://t.example.com/u/m_42"},
}


def renders_per_second(render: Callable[[], str], seconds: float, runs: int = 5) -> float:
    """Best throughput over ``runs`` timed runs of about ``seconds / runs`` each."""
    best = 0.0
    batch = 200
    for _ in range(runs):
        count = 0
        start = time.perf_counter()
        deadline = start + seconds / runs
        while time.perf_counter() < deadline:
            for _ in range(batch):
                render()
            count += batch
        best = max(best, count / (time.perf_counter() - start))
    return best


def main() -> None:
    """Measure and print both figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per renderer")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    engine = LiquidEngine()
    compiled = engine.compile(EMAIL, name="cart-reminder")
    reference = engine.env.from_string(EMAIL, name="cart-reminder")
    expected = reference.render(CONTEXT)
    assert compiled.is_compiled, engine.metrics.fallback_reasons
    assert compiled.render(CONTEXT) == expected, "the renderers disagree"
    unlimited = LiquidEngine(
        limits=RenderLimits(loop_iterations=None, output_bytes=None, local_namespace_bytes=None)
    ).compile(EMAIL)
    assert unlimited.render(CONTEXT) == expected
    empty = engine.compile("")

    seconds = args.seconds
    python_liquid = renders_per_second(lambda: reference.render(CONTEXT), seconds)
    compiled_rate = renders_per_second(lambda: compiled.render(CONTEXT), seconds)
    unlimited_rate = renders_per_second(lambda: unlimited.render(CONTEXT), seconds)
    empty_rate = renders_per_second(lambda: empty.render(CONTEXT), seconds)
    print(f"template: {len(EMAIL)} bytes, output {len(expected.encode())} bytes")
    print(f"python {platform.python_version()}, one core")
    print(f"python-liquid                  {python_liquid:>10,.0f} renders/s")
    speedup = compiled_rate / python_liquid
    print(f"compiled, default limits       {compiled_rate:>10,.0f} renders/s ({speedup:.1f}x)")
    print(f"compiled, limits off           {unlimited_rate:>10,.0f} renders/s")
    print(f"compiled, empty template       {empty_rate:>10,.0f} renders/s (fixed cost per render)")


if __name__ == "__main__":
    main()
