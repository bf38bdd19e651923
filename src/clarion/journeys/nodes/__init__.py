"""Node handlers, one module per node kind (importing this package registers them)."""

from clarion.journeys.nodes import (  # noqa: F401
    actions,
    branching,
    custom_action,
    end,
    message,
    reaction,
    wait,
)
