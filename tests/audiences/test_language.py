"""The audience language: documents accepted as written, problems pointing at the node."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from clarion.model.audience import (
    AudienceSpec,
    InvalidAudience,
    audience_json_schema,
    definition_json_schema,
    parse_audience,
    parse_definition,
    validate_audience,
)
from clarion.model.audience_list import parse_member_csv
from clarion.model.audience_nodes import (
    NODE_CLASSES,
    NODE_KINDS,
    AllNode,
    PerformedNode,
    TraitNode,
)
from clarion.model.durations import LastWindow

ISSUE_DOCUMENT = """
kind: audience
name: frequent-buyers-se
definition:
  all:
    - trait: {path: country, op: eq, value: SE}
    - performed:
        event: Order Completed
        where: [{path: total, op: gte, value: 100}]
        count: {op: gte, value: 2}
        within: {last: 30, unit: days}
    - not:
        performed: {event: Account Closed}
"""


def test_the_issue_document_is_accepted_as_written() -> None:
    spec = parse_audience(yaml.safe_load(ISSUE_DOCUMENT))

    assert spec.name == "frequent-buyers-se"
    assert isinstance(spec.definition, AllNode)
    trait, performed, negated = spec.definition.all
    assert isinstance(trait, TraitNode) and trait.trait.value == "SE"
    assert isinstance(performed, PerformedNode)
    assert performed.performed.count.value == 2
    assert performed.performed.within == LastWindow(last=30, unit="days")
    assert isinstance(negated.not_, PerformedNode)  # type: ignore[union-attr]


def test_the_api_form_without_kind_is_accepted_and_round_trips_through_json() -> None:
    document = yaml.safe_load(ISSUE_DOCUMENT)
    spec = parse_audience({"name": document["name"], "definition": document["definition"]})

    again = parse_audience(spec.model_dump(mode="json", by_alias=True))

    assert again == spec


def problems(definition: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidAudience) as raised:
        parse_definition(definition)
    return [(p.path, p.message) for p in raised.value.problems]


@pytest.mark.parametrize(
    ("definition", "path", "message"),
    [
        (
            {"all": [{"trait": {"path": "a", "op": "eq"}}, {"trait": {"path": "a", "op": "like"}}]},
            "definition.all[1].trait.op",
            "unknown operator 'like'",
        ),
        (
            {
                "all": [
                    {
                        "performed": {
                            "event": "x",
                            "where": [{"path": "t", "op": "gte", "value": True}],
                        }
                    }
                ]
            },
            "definition.all[0].performed.where[0].value",
            "`gte` takes a string or a number",
        ),
        ({"any": []}, "definition.any", "at least 1 item"),
        ({"not": {"bogus": {}}}, "definition.not", "unknown node kind 'bogus'"),
        (
            {"not": {"not": {"trait": {"path": "d", "op": "within_last", "value": "3 days"}}}},
            "definition.not.not.trait.value",
            "not a duration",
        ),
        ({"trait": {"path": "a..b", "op": "exists"}}, "definition.trait.path", "empty segment"),
        ({"trait": {"path": 'a"b', "op": "exists"}}, "definition.trait.path", "quotes"),
        (
            {"trait": {"path": "a", "op": "in", "value": []}},
            "definition.trait.value",
            "list of 1 to",
        ),
        (
            {"trait": {"path": "a", "op": "between", "value": [3, 1]}},
            "definition.trait.value",
            "low <= high",
        ),
        (
            {"trait": {"path": "a", "op": "between", "value": [1, "3"]}},
            "definition.trait.value",
            "two numbers or two strings",
        ),
        (
            {"trait": {"path": "a", "op": "exists", "value": 1}},
            "definition.trait.value",
            "takes no value",
        ),
        (
            {"trait": {"path": "a", "op": "before", "value": "2023-02-29"}},
            "definition.trait.value",
            "ISO 8601",
        ),
        (
            {"trait": {"path": "a", "op": "eq", "value": [1]}},
            "definition.trait.value",
            "a string, a number or a boolean",
        ),
        (
            {"performed": {"event": "x", "within": {"last": 30}}},
            "definition.performed.within",
            "needs a `unit`",
        ),
        (
            {"performed": {"event": "x", "within": {"from": "2026-02-01", "to": "2026-01-01"}}},
            "definition.performed.within",
            "earlier than",
        ),
        (
            {"performed": {"event": "x", "count": {"op": "about", "value": 2}}},
            "definition.performed.count.op",
            "unknown operator 'about'",
        ),
        (
            {"trait": {"path": "a", "op": "eq", "value": {"lats": 3}}},
            "definition.trait.value",
            "a value is a string",
        ),
        (
            {"performed": {"event": "x", "within": {"lats": 30}}},
            "definition.performed.within",
            "a window is",
        ),
        ({"subscribed": {"channel": "pigeon"}}, "definition.subscribed.channel", "unknown channel"),
        (
            {"message_outcome": {"outcome": "opened", "campaign": "a", "journey": "b"}},
            "definition.message_outcome",
            "at most one",
        ),
        ({"time": {"timezone": "Mars/Olympus"}}, "definition.time", "give at least one"),
        (
            {"aggregate": {"link": "bookings", "function": "sum", "op": "gt", "value": 1}},
            "definition.aggregate",
            "needs the `path`",
        ),
    ],
)
def test_invalid_definitions_name_the_offending_node(
    definition: Any, path: str, message: str
) -> None:
    found = problems(definition)

    assert found[0][0] == path
    assert message in found[0][1]


def test_a_huge_integer_is_rejected_not_crashed_on() -> None:
    assert problems({"trait": {"path": "a", "op": "eq", "value": 10**400}}) == [
        ("definition.trait.value", "numbers must be finite and within the range of a double")
    ]


def test_every_node_kind_is_declared_and_parses() -> None:
    examples: dict[str, Any] = {
        "all": [],
        "any": [{"identity": {"namespace": "email"}}],
        "not": {"identity": {"namespace": "email"}},
        "trait": {
            "path": "birthday",
            "op": "anniversary_within_next",
            "value": {"next": 7, "unit": "days"},
        },
        "identity": {"namespace": "email"},
        "subscribed": {"channel": "email", "group": "news"},
        "in_audience": "vip",
        "performed": {"event": "Order Completed"},
        "not_performed": {"event": "Order Completed", "within": "P30D"},
        "last_performed": {
            "event": "Order Completed",
            "op": "before",
            "value": {"last": 90, "unit": "days"},
        },
        "message_outcome": {"outcome": "clicked", "campaign": "spring", "within": "7d"},
        "attribute": {"path": "hotel.region", "op": "eq", "value": "north"},
        "aggregate": {"link": "bookings", "function": "count", "op": "gte", "value": 2},
        "context": {"path": "entry.properties.total", "op": "gt", "value": 100},
        "time": {"timezone": "Europe/Stockholm", "time_of_day": {"from": "09:00", "to": "17:00"}},
    }

    assert set(examples) == set(NODE_KINDS)
    for kind, body in examples.items():
        assert kind == parse_definition({kind: body}).KIND


def test_json_schema_is_exported_for_every_node_kind() -> None:
    schema = definition_json_schema()
    document = audience_json_schema()

    assert {cls.__name__ for cls in NODE_CLASSES} <= set(schema["$defs"])
    assert len(schema["oneOf"]) == len(NODE_CLASSES)
    assert "not" in schema["$defs"]["NotNode"]["properties"]
    assert set(document["properties"]) == {"kind", "name", "description", "type", "definition"}


def test_a_list_audience_has_no_definition_and_a_dynamic_one_needs_one() -> None:
    assert parse_audience({"name": "uploaded", "type": "list"}).type == "list"
    with pytest.raises(InvalidAudience, match="needs a `definition`"):
        parse_audience({"name": "empty"})
    with pytest.raises(InvalidAudience, match="uploaded members"):
        parse_audience({"name": "x", "type": "list", "definition": {"all": []}})


def lookup_from(*documents: dict[str, Any]) -> Any:
    specs = {d["name"]: AudienceSpec.model_validate(d) for d in documents}
    return specs.get


def test_in_audience_cycles_and_unknown_names_are_problems_at_the_node() -> None:
    lookup = lookup_from(
        {"name": "b", "definition": {"in_audience": "c"}},
        {"name": "c", "definition": {"any": [{"in_audience": "a"}]}},
    )
    document = {
        "name": "a",
        "definition": {"all": [{"in_audience": "b"}, {"in_audience": "ghost"}]},
    }

    found = validate_audience(document, lookup)

    assert [(p.path, p.message) for p in found] == [
        ("definition.all[0].in_audience.name", "in_audience cycle: a -> b -> c -> a"),
        ("definition.all[1].in_audience.name", "no audience named 'ghost'"),
    ]
    assert validate_audience({"name": "s", "definition": {"in_audience": "s"}}, lookup)[
        0
    ].message == ("an audience cannot contain itself ('s')")


def test_an_uploaded_csv_gives_members_and_problems_by_line() -> None:
    members, found = parse_member_csv("email,user_id\n a@x.se ,u1\n,u2\n\nb@x.se,u3,extra\n")

    assert [m.identities for m in members] == [
        (("email", "a@x.se"), ("user_id", "u1")),
        (("user_id", "u2"),),
    ]
    assert [(p.path, p.message) for p in found] == [("line 5", "more cells than header columns")]
    assert parse_member_csv("e mail\nx\n")[1][0].message == "not identity namespaces: 'e mail'"
