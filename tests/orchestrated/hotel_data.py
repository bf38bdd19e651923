"""Generated hotel-chain data: profiles (in Clarion's store), hotels, bookings, products,
purchases. Deterministic: every choice is a hash of the row's id (no randomness)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from clarion.documents.yaml_loader import load_documents
from clarion.model.consent import Status
from clarion.model.profiles import ProfileRecord
from clarion.profiles.consent import ConsentChangeRequest, set_profile_consent
from clarion.storage.base import Database, Tx

HERE = Path(__file__).parent
COUNTRIES = ["SE", "NO", "DK", "FI", "DE", "FR", "GB", "US"]
REGIONS = [
    ("Nordics", ["Stockholm", "Oslo", "Copenhagen", "Helsinki"]),
    ("Central", ["Berlin", "Vienna"]),
    ("West", ["Paris", "London"]),
]
PRODUCTS = [
    ("spa", "wellness", 80.0),
    ("breakfast", "food", 20.0),
    ("late-checkout", "comfort", 30.0),
    ("dinner", "food", 60.0),
    ("massage", "wellness", 90.0),
    ("upgrade", "comfort", 120.0),
]


def pick(seed: str, n: int) -> int:
    """A number in [0, n) from a hash of `seed`."""
    return int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16) % n


def documents(name: str) -> list[dict[str, Any]]:
    """The YAML documents of a file beside this one."""
    return load_documents((HERE / name).read_text())


@dataclass
class HotelChain:
    """The generated rows (profiles are stored by `store_profiles`)."""

    today: date
    profiles: list[dict[str, Any]] = field(default_factory=list)
    hotels: list[dict[str, Any]] = field(default_factory=list)
    bookings: list[dict[str, Any]] = field(default_factory=list)
    products: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)


def generate(
    today: date, n_profiles: int = 120, n_hotels: int = 12, n_bookings: int = 600
) -> HotelChain:
    """Profiles with countries and emails (a few without), hotels in three regions,
    bookings from a year ago to a month ahead (some cancelled, some by unknown
    customers), product purchases."""
    chain = HotelChain(today)
    for i in range(n_profiles):
        uid = f"u{i:04d}"
        chain.profiles.append(
            {
                "user_id": uid,
                "email": None if pick(uid + "e", 15) == 0 else f"guest{i}@example.com",
                "country": COUNTRIES[pick(uid, len(COUNTRIES))],
                "first_name": f"Guest{i}",
                "unsubscribed": pick(uid + "u", 12) == 0,
            }
        )
    for h in range(n_hotels):
        region, cities = REGIONS[h % len(REGIONS)]
        chain.hotels.append(
            {
                "hotel_id": f"h{h:02d}",
                "name": f"Hotel {h}",
                "region": region,
                "city": cities[pick(f"h{h}", len(cities))],
            }
        )
    for b in range(n_bookings):
        key = f"b{b:05d}"
        customer = f"u{pick(key + 'c', n_profiles + 6):04d}"  # a few customers without a profile
        soon = pick(key + "soon", 4) == 0  # a quarter check in within two weeks
        offset = pick(key + "d", 14) - 2 if soon else pick(key + "d", 400) - 365
        day = today + timedelta(days=offset)
        chain.bookings.append(
            {
                "booking_id": key,
                "customer_id": customer,
                "hotel_id": f"h{pick(key + 'h', n_hotels):02d}",
                "check_in": day.isoformat(),
                "nights": 1 + pick(key + "n", 6),
                "revenue": float(100 + pick(key + "r", 900)),
                "status": "cancelled" if pick(key + "s", 10) == 0 else "confirmed",
            }
        )
    for name, category, price in PRODUCTS:
        chain.products.append({"product_id": name, "category": category, "price": price})
    for k in range(n_bookings // 2):
        key = f"p{k:05d}"
        chain.purchases.append(
            {
                "purchase_id": key,
                "customer_id": f"u{pick(key + 'c', n_profiles):04d}",
                "product_id": PRODUCTS[pick(key + "p", len(PRODUCTS))][0],
                "purchased_at": (today - timedelta(days=pick(key + "d", 300))).isoformat(),
                "amount": float(10 + pick(key + "a", 200)),
            }
        )
    return chain


def store_profiles(
    db: Database, workspace_id: str, chain: HotelChain, now: datetime
) -> dict[str, str]:
    """Profiles with user_id and email identities, a few unsubscribed; user id -> profile id."""
    ids: dict[str, str] = {}
    with db.write() as tx:
        records = []
        owners = []
        for i, p in enumerate(chain.profiles):
            pid = f"prof-{i:04d}"
            ids[p["user_id"]] = pid
            traits = {"country": p["country"], "first_name": p["first_name"]}
            records.append(ProfileRecord(pid, workspace_id, traits, {}, now, now))
            owners.append((("user_id", p["user_id"]), pid))
            if p["email"]:
                owners.append((("email", p["email"]), pid))
            if i % 3 == 0:
                owners.append((("phone", f"+4670{i:07d}"), pid))
        tx.profiles.insert(records)
        tx.profiles.assign(workspace_id, owners, now)
        _unsubscribe(tx, workspace_id, chain, ids, now)
    return ids


def _unsubscribe(
    tx: Tx, workspace_id: str, chain: HotelChain, ids: dict[str, str], now: datetime
) -> None:
    off = [ConsentChangeRequest("email", "", Status.UNSUBSCRIBED)]
    for p in chain.profiles:
        if p["unsubscribed"]:
            set_profile_consent(tx, workspace_id, ids[p["user_id"]], off, "api", now)
