"""A channel activity's recipients: rows whose profile may receive the message now.

Eligible means what the delivery pipeline checks first, in SQL: the row has a
profile; the profile has an address on the channel (its first identity in the
channel's namespace in code point order, else the `email`/`phone` trait, as
`clarion.delivery.pipeline.address` picks it; an email needs an `@`); for
marketing, consent (`subscribed`, the rule of `clarion.model.consent`); and the
address is not suppressed (SHA-256 of the normalised address, the hash the
suppression list keeps). Direct mail is checked for consent only: its postal
address is validated when the extract is written.
"""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.sql.build import all_of, eq, gt, neq, number, one_of, query, table, text
from clarion.audiences.sql.context import compile_node
from clarion.audiences.sql.params import Params
from clarion.model.audience_nodes import Subscribed, SubscribedNode
from clarion.orchestrated import plan as p
from clarion.orchestrated.sql.base import (
    Compilation,
    W,
    key_columns,
    row_join,
    select_columns,
    with_joins,
)
from clarion.orchestrated.sql.context import RowContext

NAMESPACE = {"email": "email", "sms": "phone", "push": "device_token"}
TRAIT = {"email": "email", "sms": "phone"}
HARD = ("hard_bounce", "invalid_address", "manual")


def _address(ctx: RowContext, channel: str, profile: str) -> exp.Expr | None:
    namespace = NAMESPACE.get(channel)
    if namespace is None:
        return None
    i = ctx.alias("ie")
    value = ctx.engine.ordered(exp.column("value", i))
    first = query(
        [exp.Min(this=value)],
        table("identities", i),
        where=[
            eq(exp.column("workspace_id", i), ctx.workspace),
            eq(exp.column("namespace", i), ctx.params.add(namespace)),
            eq(exp.column("profile_id", i), exp.column("id", profile)),
        ],
    )
    found: exp.Expr = exp.Subquery(this=first)
    trait = TRAIT.get(channel)
    if trait is None:
        return found
    d = ctx.dialect
    text_trait = d.string(d.json_at(exp.column("traits", profile), (trait,), ctx.params))
    trimmed = exp.Nullif(this=exp.Trim(this=text_trait), expression=text(""))
    return exp.Coalesce(this=found, expressions=[trimmed])


def _normalised(ctx: RowContext, channel: str, address: exp.Expr) -> exp.Expr:
    if channel == "email":
        return exp.Lower(this=exp.Trim(this=address))
    if channel == "sms":
        digits = ctx.engine.digits(exp.Trim(this=address.copy()))
        plus = exp.DPipe(this=text("+"), expression=digits.copy(), safe=True)
        return exp.Case(
            ifs=[exp.If(this=neq(digits, text("")), true=plus)], default=exp.Trim(this=address)
        )
    return exp.Trim(this=address)


def _suppressed(ctx: RowContext, node: p.Recipients, address: exp.Expr) -> exp.Expr:
    s = ctx.alias("sp")
    where = [
        eq(exp.column("workspace_id", s), ctx.workspace),
        one_of(exp.column("channel", s), [ctx.params.add(node.channel), text("*")]),
        eq(
            exp.column("address_hash", s),
            ctx.engine.sha256_hex(_normalised(ctx, node.channel, address)),
        ),
    ]
    if node.category == "transactional":
        where.append(one_of(exp.column("reason", s), [text(r) for r in HARD]))
    return exp.Exists(this=query([number(1)], table("suppressions", s), where=where))


def compile_recipients(
    c: Compilation, node: p.Recipients, step: p.Step, params: Params
) -> exp.Select:
    """`_pk`, `_pk2`, `_profile_id` of the eligible rows.

    The address and consent are computed once per row in a derived table `q`;
    the suppression test then reads `q._address` (one level of correlation,
    which Spark SQL requires).
    """
    entity = c.catalog.entity(step.columns.dimension)
    ctx = c.context(params, entity, W, step.columns)
    link = c.catalog.profile_link(entity.name)
    profile = ctx.row if entity.is_profiles or link is None else ctx.walk((link,))
    keys = key_columns(step.columns)
    inner_columns: list[exp.Expr] = [
        *select_columns(keys),
        exp.alias_(exp.column("id", profile), "_profile_id", copy=False),
    ]
    address = _address(ctx, node.channel, profile)
    if address is not None:
        inner_columns.append(exp.alias_(address, "_address", copy=False))
    consent: exp.Expr = exp.true()
    if node.category == "marketing":
        subscribed = SubscribedNode(
            subscribed=Subscribed(channel=node.channel, group=node.subscription_group)
        )
        consent = compile_node(subscribed, step.key, ctx)
    inner_columns.append(exp.alias_(consent, "_consent", copy=False))
    inner = query(inner_columns, c.work_table(node.source, W))
    with_joins(inner, ctx, row_join(ctx))
    q = exp.column
    where: list[exp.Expr] = [
        exp.Not(this=exp.Is(this=q("_profile_id", "q"), expression=exp.Null())),
        eq(q("_consent", "q"), exp.true()),
    ]
    if address is not None:
        where.append(exp.Not(this=exp.Is(this=q("_address", "q"), expression=exp.Null())))
        if node.channel == "email":
            where.append(gt(ctx.dialect.position(q("_address", "q"), text("@")), number(0)))
        where.append(exp.Not(this=_suppressed(ctx, node, q("_address", "q"))))
    derived = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("q")))
    return query(
        [*select_columns(keys, "q"), q("_profile_id", "q")], derived, where=[all_of(*where)]
    )
