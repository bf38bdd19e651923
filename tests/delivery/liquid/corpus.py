# ruff: noqa: E501, RUF001  (templates are data: long lines and typographic characters on purpose)
"""Marketing and transactional message templates, fragments and data, as teams write them.

Each template is rendered against its data and against variants of that data (keys
missing, values null, numbers as strings) by ``test_corpus``.
"""

from __future__ import annotations

FRAGMENTS = {
    "header": (
        '<table role="presentation" width="100%"><tr><td align="center">'
        '<img src="{{ brand.logo_url }}" alt="{{ brand.name | escape }}" width="120">'
        "</td></tr></table>\n"
    ),
    "footer": (
        '<p class="footer">{{ brand.name }} · {{ brand.address | default: "" }}<br>\n'
        "{%- if unsubscribe_url %}\n"
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a>\n'
        "{%- endif %}</p>\n"
    ),
    "line_item": (
        "<tr>\n  <td>{{ forloop.index }}. {{ line.title | truncate: 40 }}</td>\n"
        '  <td align="right">{{ line.quantity }} × {{ line.price | prepend: "$" }}</td>\n'
        "</tr>\n"
    ),
    "button": (
        '<a class="btn" href="{{ url }}" style="background:{{ color | default: "#3869d4" }}">'
        "{{ label | default: 'Open' }}</a>"
    ),
    "social_links": (
        "{%- for link in brand.social -%}\n"
        '<a href="{{ link.url }}">{{ link.network | capitalize }}</a>'
        "{%- unless forloop.last %} | {% endunless -%}\n"
        "{%- endfor -%}"
    ),
    "product_card": (
        '<div class="card">{% if product.image %}<img src="{{ product.image }}">{% endif %}'
        "<h3>{{ product.title }}</h3>"
        "{%- if product.compare_at_price > product.price -%}"
        "<s>{{ product.compare_at_price }}</s> "
        "{%- endif -%}"
        "<b>{{ product.price }}</b></div>"
    ),
    "greeting": (
        "{%- case profile.locale -%}"
        "{%- when 'fr', 'fr-CA' -%}Bonjour"
        "{%- when 'de' -%}Hallo"
        "{%- when 'es', 'es-MX' -%}Hola"
        "{%- else -%}Hi"
        "{%- endcase %} {{ profile.first_name | default: friend_word | default: 'there' }}"
    ),
    "legacy_signature": (
        "{% assign signed_by = sender.name | default: 'The team' %}-- \n{{ signed_by }}"
    ),
}

BRAND = {
    "name": "Northwind & Co",
    "logo_url": "https://cdn.example.com/nw/logo.png",
    "address": "1 Market St, Springfield",
    "social": [
        {"network": "instagram", "url": "https://instagram.com/northwind"},
        {"network": "tiktok", "url": "https://tiktok.com/@northwind"},
        {"network": "facebook", "url": "https://facebook.com/northwind"},
    ],
}

TEMPLATES: dict[str, tuple[str, dict[str, object]]] = {}

TEMPLATES["cart_abandonment"] = (
    """{% render 'header', brand: brand %}
<h1>{% render 'greeting', profile: profile %},</h1>
<p>You left {{ cart.items | size }} {% if cart.items.size == 1 %}item{% else %}items{% endif %} \
in your cart.</p>
<table>
{%- for line in cart.items %}
  {% render 'line_item' with line as line, forloop: forloop %}
{%- endfor %}
</table>
{%- assign subtotal = 0 -%}
{%- for line in cart.items -%}
  {%- assign line_total = line.price | times: line.quantity -%}
  {%- assign subtotal = subtotal | plus: line_total -%}
{%- endfor %}
<p>Subtotal: ${{ subtotal | round: 2 }}</p>
{% if subtotal >= 100 -%}
<p>Good news: shipping is on us.</p>
{%- else -%}
<p>Add ${{ 100 | minus: subtotal | round: 2 }} more for free shipping.</p>
{%- endif %}
{% render 'button', url: cart.url, label: "Finish checking out" %}
{% render 'footer', brand: brand, unsubscribe_url: message.unsubscribe_url %}""",
    {
        "brand": BRAND,
        "profile": {"first_name": "Ada", "locale": "fr-CA"},
        "cart": {
            "url": "https://shop.example.com/cart?c=abc&utm=email",
            "items": [
                {"title": "Linen shirt, relaxed fit, washed", "quantity": 1, "price": 68.0},
                {"title": "Canvas tote", "quantity": 2, "price": 19.5},
            ],
        },
        "message": {"unsubscribe_url": "https://t.example.com/u/1"},
    },
)

TEMPLATES["welcome_series"] = (
    """{%- comment -%} Day 0 of the onboarding journey {%- endcomment -%}
Subject: Welcome{% if profile.first_name %}, {{ profile.first_name | capitalize }}{% endif %}!
{% if profile.plan == "pro" or profile.plan == "team" -%}
Your {{ profile.plan | upcase }} trial ends on {{ profile.trial_ends_at | date: "%B %-d, %Y" }}.
{%- elsif profile.plan == "free" -%}
You are on the free plan. Upgrade any time.
{%- else -%}
Pick a plan to get started.
{%- endif %}
{% unless profile.email_verified %}Please confirm your address: {{ links.verify }}{% endunless %}
Steps:
{% for step in onboarding.steps -%}
{{ forloop.index }}/{{ forloop.length }} {% if step.done %}[x]{% else %}[ ]{% endif %} {{ step.label }}
{% endfor -%}
{% render 'legacy_signature', sender: sender %}""",
    {
        "profile": {
            "first_name": "grace",
            "plan": "pro",
            "trial_ends_at": "2024-03-05",
            "email_verified": False,
        },
        "links": {"verify": "https://app.example.com/verify?t=XYZ"},
        "onboarding": {
            "steps": [
                {"label": "Create a project", "done": True},
                {"label": "Invite your team", "done": False},
                {"label": "Connect your data", "done": False},
            ]
        },
        "sender": {"name": "Maya from Northwind"},
    },
)

TEMPLATES["order_confirmation"] = (
    """{%- capture order_title -%}Order #{{ order.number }}{%- endcapture -%}
<h1>{{ order_title }} is confirmed</h1>
<p>Placed {{ order.created_at | date: "%a, %b %d %Y" }} · {{ order.items | size }} items</p>
{% for item in order.items limit: 3 -%}
<div class="{% cycle 'row-odd', 'row-even' %}">{{ item.title }} — {{ item.quantity }} \
× ${{ item.price | times: 1.0 | round: 2 }}</div>
{% endfor -%}
{%- if order.items.size > 3 -%}
<p>and {{ order.items.size | minus: 3 }} more:</p>
{% for item in order.items offset: continue %}<span>{{ item.title }}</span>{% endfor %}
{%- endif %}
<p>Shipping to: {{ order.shipping.name }}, {{ order.shipping.city }} \
{{ order.shipping.zip | default: "" }}</p>
{% case order.shipping.method -%}
  {%- when "express" -%}Arrives in 1–2 business days.
  {%- when "standard", "economy" -%}Arrives in 3–7 business days.
  {%- else -%}We'll email you tracking details.
{%- endcase %}
{% if order.discount_codes.size > 0 %}Codes used: {{ order.discount_codes | join: ", " }}{% endif %}
Total paid: ${{ order.total | round: 2 }}""",
    {
        "order": {
            "number": 10234,
            "created_at": "2024-02-29T14:03:00",
            "items": [
                {"title": "Linen shirt", "quantity": 1, "price": 68},
                {"title": "Canvas tote", "quantity": 2, "price": 19.5},
                {"title": "Wool socks", "quantity": 3, "price": 12},
                {"title": "Gift card", "quantity": 1, "price": 25},
                {"title": "Leather belt", "quantity": 1, "price": 45},
            ],
            "shipping": {"name": "Ada L.", "city": "Lyon", "zip": "69001", "method": "economy"},
            "discount_codes": ["WELCOME10", "FREESHIP"],
            "total": 201.0,
        }
    },
)

TEMPLATES["newsletter_digest"] = (
    """<h1>{{ newsletter.title }} — {{ newsletter.issue_date | date: "%B %Y" }}</h1>
{%- for article in newsletter.articles %}
{%- if article.draft %}{% continue %}{% endif %}
{%- if forloop.index > 4 %}{% break %}{% endif %}
{%- if forloop.first %}
<section class="hero">
  <h2><a href="{{ article.url }}?utm_source=newsletter">{{ article.title }}</a></h2>
  <p>{{ article.body | strip_html | truncatewords: 12 }}</p>
</section>
{%- else %}
<section class="{% cycle 'left', 'right' %}">
  <h3>{{ article.title | escape }}</h3>
  <p>{{ article.body | strip_html | truncate: 60, "…" }}</p>
  {%- if article.tags contains "sponsored" %}<small>Sponsored</small>{% endif %}
</section>
{%- endif %}
{%- else %}
<p>No stories this week.</p>
{%- endfor %}
<p>{% render 'social_links', brand: brand %}</p>""",
    {
        "brand": BRAND,
        "newsletter": {
            "title": "The Weekly Thread",
            "issue_date": "2024-05-03",
            "articles": [
                {
                    "title": "Spring collection is here",
                    "url": "https://blog.example.com/spring",
                    "body": "<p>Light fabrics, <b>bright</b> colours and a new fit for everyone "
                    "who asked.</p><p>More inside.</p>",
                    "tags": ["collection"],
                },
                {"title": "Draft: not yet", "draft": True, "body": "secret", "tags": []},
                {
                    "title": "How we source linen <responsibly>",
                    "url": "https://blog.example.com/linen",
                    "body": "Our linen comes from family farms in Normandy and Belgium.",
                    "tags": ["sourcing", "sponsored"],
                },
                {"title": "Care guide", "body": "Wash cold. Dry flat.", "tags": []},
                {"title": "Store opening", "body": "Now in Lyon.", "tags": ["stores"]},
                {"title": "Sixth story", "body": "Cut by the break.", "tags": []},
            ],
        },
    },
)

TEMPLATES["product_grid"] = (
    """<table class="grid">
{% tablerow product in recommendations cols: 2 limit: 4 %}
  {%- render 'product_card', product: product -%}
{% endtablerow %}
</table>
<p>Because you viewed {{ viewed.title | default: "our catalogue" }}.
{%- if recommendations.size > 4 %} See all {{ recommendations.size }} picks: \
{{ links.all | append: "?ref=" | append: profile.id | url_encode }}{% endif %}</p>""",
    {
        "profile": {"id": "p_42"},
        "viewed": {"title": "Linen shirt"},
        "links": {"all": "https://shop.example.com/picks"},
        "recommendations": [
            {"title": "Canvas tote", "price": "$19.50", "image": "https://cdn.example.com/1.jpg"},
            {"title": "Wool socks", "price": 12, "compare_at_price": 15},
            {"title": "Linen trousers", "price": 88, "compare_at_price": 80, "image": ""},
            {"title": "Straw hat", "price": 35},
            {"title": "Espadrilles", "price": 55},
        ],
    },
)

TEMPLATES["sms_reminder"] = (
    """{%- capture body -%}
{{ business.name }}: hi {{ customer.first_name | default: "there" }}, reminder of your \
{{ appointment.service | downcase }} on {{ appointment.starts_at | date: "%b %d at %H:%M" }}
{%- if appointment.staff %} with {{ appointment.staff }}{% endif %}.
{%- case appointment.channel %}{% when "video" %} Join: {{ appointment.video_url }}\
{% when "phone" %} We'll call you.{% else %} Address: {{ business.address }}{% endcase %} \
Reply C to confirm, R to reschedule.
{%- endcapture -%}
{{ body | strip_newlines | truncate: 160 }}""",
    {
        "business": {"name": "Studio Nine", "address": "9 Rue Haute, Lyon"},
        "customer": {"first_name": "Léa"},
        "appointment": {
            "service": "Deep Tissue Massage",
            "starts_at": "2024-06-12T15:30:00",
            "staff": "Marc",
            "channel": "in_person",
        },
    },
)

TEMPLATES["push_payload"] = (
    """{"title": "{{ event.properties.product_name | default: 'Back in stock' | replace: '"', '\\\\"' }}",
 "body": "{{ profile.first_name | default: 'Hey' }}, size {{ event.properties.size | upcase }} \
is available again{% if event.properties.stock < 5 %} — only {{ event.properties.stock }} left{% endif %}.",
 "deep_link": "shop://product/{{ event.properties.product_id | url_encode }}",
 "badge": {{ profile.unread_count | plus: 1 }}}""",
    {
        "profile": {"first_name": "Ada", "unread_count": 2},
        "event": {
            "event": "Back In Stock",
            "properties": {
                "product_name": 'The "Classic" tee',
                "size": "m",
                "stock": 3,
                "product_id": "sku 123/blue",
            },
        },
    },
)

TEMPLATES["loyalty_statement"] = (
    """{%- assign points = member.points | default: 0 -%}
{%- assign next_tier_at = 1000 -%}
{%- assign missing = next_tier_at | minus: points | at_least: 0 -%}
Hi {{ member.name }}, you have {{ points }} points ({{ points | divided_by: 100 | floor }} rewards).
{%- if missing > 0 %} {{ missing }} to go before {{ member.next_tier | default: "Gold" }}.
{%- else %} You reached {{ member.next_tier | default: "Gold" }}!{% endif %}
Progress: {{ points | times: 100 | divided_by: next_tier_at | at_most: 100 }}%
{% for activity in member.activity reversed limit: 3 -%}
#{% increment entry %} {{ activity.date | date: "%d/%m" }} {{ activity.label }}: \
{% if activity.points > 0 %}+{% endif %}{{ activity.points }}
{% endfor -%}
Entries shown: {{ entry }}. Balance check: {{ points | modulo: 100 }} points carry over.
{%- decrement spare -%}{%- decrement spare %} ({{ spare }})""",
    {
        "member": {
            "name": "Sam",
            "points": 870,
            "next_tier": "Platinum",
            "activity": [
                {"date": "2024-01-03", "label": "Order #1001", "points": 120},
                {"date": "2024-02-14", "label": "Review", "points": 50},
                {"date": "2024-03-01", "label": "Reward redeemed", "points": -300},
                {"date": "2024-03-20", "label": "Order #1077", "points": 200},
            ],
        }
    },
)

TEMPLATES["event_invite"] = (
    """{% liquid
  assign event_date = event.starts_at | date: "%A %d %B"
  if event.capacity and event.registered
    assign seats_left = event.capacity | minus: event.registered
  endif
  capture cta_label
    if seats_left and seats_left < 20
      echo "Grab one of the last seats"
    else
      echo "Save my seat"
    endif
  endcapture
%}
<h1>{{ event.name }}</h1>
<p>{{ event_date }}, {{ event.venue | default: "online" }}.</p>
{% if seats_left %}<p>{{ seats_left }} seats left.</p>{% endif %}
{% render 'button', url: event.rsvp_url, label: cta_label, color: "#0a7" %}
{% raw %}<p>Tip: our editor shows {{ placeholders }} like this.</p>{% endraw %}
{%- # speakers list is optional %}
{%- if event.speakers != empty %}
<ul>{% for s in event.speakers %}<li>{{ s.name }}{% if s.title != blank %}, {{ s.title }}{% endif %}</li>{% endfor %}</ul>
{%- endif %}
{% echo event.footer_note | default: "See you there!" %}""",
    {
        "event": {
            "name": "Spring Launch Party",
            "starts_at": "2024-04-18T18:30:00",
            "venue": "Halle 9",
            "capacity": 120,
            "registered": 108,
            "rsvp_url": "https://events.example.com/rsvp/9",
            "speakers": [{"name": "Ada", "title": "CEO"}, {"name": "Lin", "title": " "}],
        }
    },
)

TEMPLATES["birthday_offer"] = (
    """{%- assign favourite = profile.categories | first -%}
{%- assign vip = false -%}
{%- if profile.tags contains "vip" or profile.lifetime_value > 500 %}{% assign vip = true %}{% endif -%}
Happy birthday {{ profile.first_name }}! 🎂
{% if vip -%}
As a VIP, enjoy {{ offer.vip_percent }}% off{% if favourite %} everything in {{ favourite | downcase }}{% endif %}.
{%- else -%}
Enjoy {{ offer.percent }}% off your next order.
{%- endif %}
Your top categories: {{ profile.categories | uniq | sort_natural | join: ", " }}.
Recent buys: {{ profile.orders | map: "title" | compact | reverse | join: " / " }}
Code {{ offer.code | upcase }} — valid {{ offer.days | default: 7 }} days.
{% unless profile.tags contains "no_sms" %}Text BDAY to 55555 for a surprise.{% endunless %}""",
    {
        "profile": {
            "first_name": "Noor",
            "tags": ["newsletter", "vip"],
            "lifetime_value": 320,
            "categories": ["Shoes", "bags", "Shoes", "accessories"],
            "orders": [{"title": "Sneakers"}, {"title": None}, {"title": "Belt"}],
        },
        "offer": {"vip_percent": 25, "percent": 15, "code": "bday-noor"},
    },
)

TEMPLATES["reengagement"] = (
    """{%- assign days = profile.days_since_last_order | default: 0 -%}
{%- if days > 180 -%}It's been a while, {{ profile.first_name | default: "friend" }}.
{%- elsif days > 60 -%}We miss you, {{ profile.first_name }}.
{%- else -%}Thanks for being with us.{%- endif %}
{% assign picks = catalogue.products | where: "category", profile.preferences.categories.first -%}
{%- if picks == empty -%}{% assign picks = catalogue.products | sort: "rank" %}{% endif -%}
{% for p in picks limit: 2 -%}
- {{ p.title }} ({{ p.category | default: "misc" }}){% if forloop.last == false %},{% endif %}
{% endfor -%}
More: {{ catalogue.products | map: "title" | concat: catalogue.extra_titles | slice: 0, 3 | join: ", " }}
Last seen: {{ profile.preferences.categories.last | default: "n/a" }}""",
    {
        "profile": {
            "first_name": "Ivo",
            "days_since_last_order": 200,
            "preferences": {"categories": ["outdoor", "kitchen"]},
        },
        "catalogue": {
            "products": [
                {"title": "Camp stove", "category": "outdoor", "rank": 2},
                {"title": "Chef knife", "category": "kitchen", "rank": 1},
                {"title": "Tent", "category": "outdoor", "rank": 3},
            ],
            "extra_titles": ["Gift card"],
        },
    },
)

TEMPLATES["password_reset"] = (
    """Hi {{ user.name | strip | default: user.email }},

Someone asked to reset the password for {{ user.email }}.
{{ "Use this link within 30 minutes:" }}
{{ links.reset | append: "?token=" | append: token | url_encode | replace: "%3A", ":" | replace: "%2F", "/" }}

{{ support.note | newline_to_br }}
If you did not ask, ignore this email.""",
    {
        "user": {"name": "  Ada  ", "email": "ada@example.com"},
        "links": {"reset": "https://app.example.com/reset"},
        "token": "t0k/en+=",
        "support": {"note": "Need help?\nReply to this email."},
    },
)

TEMPLATES["grouped_receipt"] = (
    """{% assign sorted = receipt.lines | sort: "category" -%}
{% for line in sorted -%}
{%- ifchanged %}
== {{ line.category | upcase }} =={% endifchanged %}
{{ line.name }}{% if line.note %} ({{ line.note }}){% endif %}: {{ line.amount | prepend: "€" }}
{%- endfor %}
{% for i in (1..receipt.copies) %}[copy {{ i }}/{{ forloop.length }}{% if forloop.parentloop %}?{% endif %}]{% endfor %}""",
    {
        "receipt": {
            "copies": 2,
            "lines": [
                {"name": "Baguette", "category": "bakery", "amount": "1.20"},
                {"name": "Brie", "category": "cheese", "amount": "4.50", "note": "ripe"},
                {"name": "Croissant", "category": "bakery", "amount": "1.10"},
                {"name": "Comté", "category": "cheese", "amount": "6.80"},
            ],
        }
    },
)

TEMPLATES["plain_text_digest"] = (
    """{%- for team in org.teams -%}
{{ team.name }}:
{%- for member in team.members %}
  {{ forloop.parentloop.index }}.{{ forloop.index }} {{ member.name }}{% if member.on_call %} (on call){% endif %}
  {%- for task in member.tasks limit: 2 %}
    - {{ task | capitalize }}{% if forloop.rindex0 == 0 %};{% endif %}
  {%- endfor %}
{%- endfor %}
{% endfor -%}
Generated for {{ org.name | default: "your organisation" }}.""",
    {
        "org": {
            "name": "Northwind",
            "teams": [
                {
                    "name": "Support",
                    "members": [
                        {"name": "Ana", "on_call": True, "tasks": ["reply to tickets", "triage"]},
                        {"name": "Ben", "tasks": ["write macros", "review", "plan"]},
                    ],
                },
                {"name": "Ops", "members": [{"name": "Cy", "tasks": []}]},
            ],
        }
    },
)

TEMPLATES["include_legacy"] = (
    """{%- assign friend_word = "friend" -%}
{% include 'greeting' %},
{% for product in picks %}{% include 'product_card' %}{% endfor %}
{% include 'legacy_signature' %}
(signed: {{ signed_by }})""",
    {
        "profile": {"first_name": None, "locale": "de"},
        "picks": [{"title": "Tote", "price": 19}, {"title": "Cap", "price": 25, "image": "x.png"}],
        "sender": {"name": "Jo"},
    },
)
