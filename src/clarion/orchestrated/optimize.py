"""Optimiser passes: pure functions from a plan to a plan (fixtures in tests/orchestrated).

- `alias_pass_through`: a step that passes its input on unchanged (wait, fork,
  and-join, a split's own transition, a channel's inbound set) reuses its
  input's work table instead of copying it.
"""

from __future__ import annotations

from dataclasses import replace

from clarion.orchestrated.plan import Pass, Plan


def alias_pass_through(plan: Plan) -> Plan:
    """Steps that copy their input unchanged share their input's table."""
    steps = []
    for step in plan.steps:
        if isinstance(step.node, Pass):
            steps.append(replace(step, alias_of=step.node.source))
        else:
            steps.append(step)
    return replace(plan, steps=tuple(steps))


PASSES = (alias_pass_through,)


def optimize(plan: Plan) -> Plan:
    """Every pass, in order."""
    for apply in PASSES:
        plan = apply(plan)
    return plan
