"""Traits, identities and consent in SQL."""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.semantics import ADDRESS_NAMESPACES
from clarion.audiences.sql.build import (
    all_of,
    any_of,
    eq,
    in_query,
    negate,
    number,
    query,
    table,
    text,
)
from clarion.audiences.sql.conditions import condition_sql
from clarion.audiences.sql.context import SQL_COMPILERS, SqlContext, atom
from clarion.model.audience_nodes import IdentityNode, SubscribedNode, TraitNode
from clarion.model.consent import WHOLE_CHANNEL, GroupDefault, Status


@SQL_COMPILERS.register("trait")
def compile_trait(node: TraitNode, path: str, ctx: SqlContext) -> exp.Expr:
    """A condition on `p.traits`."""
    return condition_sql(ctx, ctx.traits, node.trait)


def _column(name: str, alias: str) -> exp.Expr:
    return exp.column(name, alias)


@SQL_COMPILERS.register("identity")
def compile_identity(node: IdentityNode, path: str, ctx: SqlContext) -> exp.Expr:
    """`p.id` has a row in `identities` for the namespace."""
    i = ctx.alias("i")
    rows = query(
        [_column("profile_id", i)],
        table("identities", i),
        where=[
            eq(_column("workspace_id", i), ctx.workspace),
            eq(_column("namespace", i), ctx.params.add(node.identity.namespace)),
        ],
    )
    return in_query(ctx.profile_id, rows)


def _profile_states(ctx: SqlContext, channel: str, group: str, status: Status) -> exp.Expr:
    s = ctx.alias("s")
    rows = query(
        [_column("profile_id", s)],
        table("subscriptions", s),
        where=[
            eq(_column("workspace_id", s), ctx.workspace),
            eq(_column("channel", s), ctx.params.add(channel)),
            eq(_column("group", s), ctx.params.add(group)),
            eq(_column("status", s), text(status.value)),
        ],
    )
    return in_query(ctx.profile_id, rows)


def _address_states(ctx: SqlContext, channel: str, group: str, status: Status) -> exp.Expr:
    namespace = ADDRESS_NAMESPACES.get(channel)
    if namespace is None:
        return exp.false()
    i, a = ctx.alias("i"), ctx.alias("a")
    same_address = all_of(
        eq(_column("workspace_id", a), _column("workspace_id", i)),
        eq(_column("address", a), _column("value", i)),
    )
    rows = query(
        [_column("profile_id", i)],
        table("identities", i),
        joins=[(table("address_subscriptions", a), same_address)],
        where=[
            eq(_column("workspace_id", i), ctx.workspace),
            eq(_column("namespace", i), ctx.params.add(namespace)),
            eq(_column("channel", a), ctx.params.add(channel)),
            eq(_column("group", a), ctx.params.add(group)),
            eq(_column("status", a), text(status.value)),
        ],
    )
    return in_query(ctx.profile_id, rows)


def _state(ctx: SqlContext, channel: str, group: str, status: Status) -> exp.Expr:
    """Some explicit state (the profile's or one of its addresses') is `status`."""
    return exp.Paren(
        this=any_of(
            _profile_states(ctx, channel, group, status),
            _address_states(ctx, channel, group, status),
        )
    )


def _group(ctx: SqlContext, group: str, opt_out_only: bool) -> exp.Expr:
    g = ctx.alias("g")
    where = [
        eq(_column("workspace_id", g), ctx.workspace),
        eq(_column("name", g), ctx.params.add(group)),
    ]
    if opt_out_only:
        where.append(eq(_column("default_status", g), text(GroupDefault.OPT_OUT.value)))
    return exp.Exists(this=query([number(1)], table("subscription_groups", g), where=where))


@SQL_COMPILERS.register("subscribed")
def compile_subscribed(node: SubscribedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Effective consent, as `clarion.model.consent.is_subscribed` decides it.

    Like `clarion.profiles.consent.is_profile_subscribed`, the group's default is
    found by name; without such a group, the channel's state alone decides.
    """
    channel, group = node.subscribed.channel, node.subscribed.group
    allowed = negate(_state(ctx, channel, WHOLE_CHANNEL, Status.UNSUBSCRIBED))
    if group is None:
        return atom(allowed)
    explicit_or_default = any_of(
        _state(ctx, channel, group, Status.SUBSCRIBED), _group(ctx, group, True)
    )
    by_group = all_of(
        negate(_state(ctx, channel, group, Status.UNSUBSCRIBED)),
        exp.Paren(this=explicit_or_default),
    )
    no_group = negate(_group(ctx, group, False))
    return atom(all_of(allowed, exp.Paren(this=any_of(no_group, exp.Paren(this=by_group)))))
