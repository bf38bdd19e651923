"""Traits, identities and consent, in memory."""

from __future__ import annotations

from clarion.audiences.memory.compiler import MEMORY_COMPILERS, Compiled, MemoryContext, never
from clarion.audiences.memory.profile import ProfileView
from clarion.audiences.memory.values import condition_changes, condition_test
from clarion.audiences.semantics import ADDRESS_NAMESPACES
from clarion.model.audience_nodes import IdentityNode, SubscribedNode, TraitNode
from clarion.model.consent import WHOLE_CHANNEL, GroupDefault, Status, fold, is_subscribed


@MEMORY_COMPILERS.register("trait")
def compile_trait(node: TraitNode, path: str, ctx: MemoryContext) -> Compiled:
    """A condition on the profile's traits."""
    test = condition_test(node.trait)
    changes = condition_changes(node.trait)
    return Compiled(
        lambda profile, now: test(profile.traits, now),
        (lambda profile, now: changes(profile.traits, now)) if changes else never,
    )


@MEMORY_COMPILERS.register("identity")
def compile_identity(node: IdentityNode, path: str, ctx: MemoryContext) -> Compiled:
    """Has an identity in a namespace."""
    namespace = node.identity.namespace
    return Compiled(lambda profile, now: any(ns == namespace for ns, _ in profile.identities))


def _status(value: str | None) -> Status | None:
    return Status(value) if value in (Status.SUBSCRIBED, Status.UNSUBSCRIBED) else None


def _address_states(profile: ProfileView, channel: str, group: str) -> list[Status | None]:
    namespace = ADDRESS_NAMESPACES.get(channel)
    if namespace is None:
        return []
    addresses = {value for ns, value in profile.identities if ns == namespace}
    return [
        _status(state.status)
        for state in profile.address_states
        if state.channel == channel and state.group == group and state.address in addresses
    ]


@MEMORY_COMPILERS.register("subscribed")
def compile_subscribed(node: SubscribedNode, path: str, ctx: MemoryContext) -> Compiled:
    """Effective consent, by `clarion.model.consent.is_subscribed`."""
    channel, group_name = node.subscribed.channel, node.subscribed.group
    group = ctx.resolver.subscription_group(group_name) if group_name is not None else None
    default: GroupDefault | None = group.default if group else None

    def holds(profile: ProfileView, now: int) -> bool:
        own = profile.subscriptions
        channel_state = fold(
            _status(own.get((channel, WHOLE_CHANNEL))),
            *_address_states(profile, channel, WHOLE_CHANNEL),
        )
        group_state = None
        if group_name is not None:
            group_state = fold(
                _status(own.get((channel, group_name))),
                *_address_states(profile, channel, group_name),
            )
        return is_subscribed(
            channel_state=channel_state, group_state=group_state, group_default=default
        )

    return Compiled(holds)
