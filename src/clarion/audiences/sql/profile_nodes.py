"""Traits, identities and consent in SQL."""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.semantics import ADDRESS_NAMESPACES
from clarion.audiences.sql.conditions import condition_sql
from clarion.audiences.sql.context import SQL_COMPILERS, SqlContext, atom
from clarion.audiences.sql.dialects import text
from clarion.model.audience_nodes import IdentityNode, SubscribedNode, TraitNode
from clarion.model.consent import WHOLE_CHANNEL, GroupDefault, Status


@SQL_COMPILERS.register("trait")
def compile_trait(node: TraitNode, path: str, ctx: SqlContext) -> exp.Expr:
    """A condition on `p.traits`."""
    return condition_sql(ctx, ctx.traits, node.trait)


def _table(name: str, alias: str) -> exp.Expr:
    return exp.table_(name).as_(alias)


@SQL_COMPILERS.register("identity")
def compile_identity(node: IdentityNode, path: str, ctx: SqlContext) -> exp.Expr:
    """`p.id` has a row in `identities` for the namespace."""
    i = ctx.alias("i")
    rows = (
        exp.select(exp.column("profile_id", i))
        .from_(_table("identities", i))
        .where(exp.column("workspace_id", i).eq(ctx.workspace))
        .where(exp.column("namespace", i).eq(ctx.params.add(node.identity.namespace)))
    )
    return ctx.profile_id.isin(query=rows)


def _profile_states(ctx: SqlContext, channel: str, group: str, status: Status) -> exp.Expr:
    s = ctx.alias("s")
    rows = (
        exp.select(exp.column("profile_id", s))
        .from_(_table("subscriptions", s))
        .where(exp.column("workspace_id", s).eq(ctx.workspace))
        .where(exp.column("channel", s).eq(ctx.params.add(channel)))
        .where(exp.column("group", s).eq(ctx.params.add(group)))
        .where(exp.column("status", s).eq(text(status.value)))
    )
    return ctx.profile_id.isin(query=rows)


def _address_states(ctx: SqlContext, channel: str, group: str, status: Status) -> exp.Expr:
    namespace = ADDRESS_NAMESPACES.get(channel)
    if namespace is None:
        return exp.false()
    i, a = ctx.alias("i"), ctx.alias("a")
    rows = (
        exp.select(exp.column("profile_id", i))
        .from_(_table("identities", i))
        .join(
            _table("address_subscriptions", a),
            on=exp.and_(
                exp.column("workspace_id", a).eq(exp.column("workspace_id", i)),
                exp.column("address", a).eq(exp.column("value", i)),
            ),
        )
        .where(exp.column("workspace_id", i).eq(ctx.workspace))
        .where(exp.column("namespace", i).eq(ctx.params.add(namespace)))
        .where(exp.column("channel", a).eq(ctx.params.add(channel)))
        .where(exp.column("group", a).eq(ctx.params.add(group)))
        .where(exp.column("status", a).eq(text(status.value)))
    )
    return ctx.profile_id.isin(query=rows)


def _state(ctx: SqlContext, channel: str, group: str, status: Status) -> exp.Expr:
    """Some explicit state (the profile's or one of its addresses') is `status`."""
    return exp.Paren(
        this=exp.or_(
            _profile_states(ctx, channel, group, status),
            _address_states(ctx, channel, group, status),
        )
    )


def _group(ctx: SqlContext, group: str, opt_out_only: bool) -> exp.Expr:
    g = ctx.alias("g")
    rows = (
        exp.select("1")
        .from_(_table("subscription_groups", g))
        .where(exp.column("workspace_id", g).eq(ctx.workspace))
        .where(exp.column("name", g).eq(ctx.params.add(group)))
    )
    if opt_out_only:
        rows = rows.where(exp.column("default_status", g).eq(text(GroupDefault.OPT_OUT.value)))
    return exp.Exists(this=rows)


@SQL_COMPILERS.register("subscribed")
def compile_subscribed(node: SubscribedNode, path: str, ctx: SqlContext) -> exp.Expr:
    """Effective consent, as `clarion.model.consent.is_subscribed` decides it.

    Like `clarion.profiles.consent.is_profile_subscribed`, the group's default is
    found by name; without such a group, the channel's state alone decides.
    """
    channel, group = node.subscribed.channel, node.subscribed.group
    allowed = exp.not_(_state(ctx, channel, WHOLE_CHANNEL, Status.UNSUBSCRIBED))
    if group is None:
        return atom(allowed)
    explicit_or_default = exp.or_(
        _state(ctx, channel, group, Status.SUBSCRIBED), _group(ctx, group, True)
    )
    by_group = exp.and_(
        exp.not_(_state(ctx, channel, group, Status.UNSUBSCRIBED)),
        exp.Paren(this=explicit_or_default),
    )
    no_group = exp.not_(_group(ctx, group, False))
    return atom(exp.and_(allowed, exp.Paren(this=exp.or_(no_group, exp.Paren(this=by_group)))))
