"""The in-memory evaluator: one profile, at one instant, for real-time membership."""

from clarion.audiences.memory.evaluator import (
    CompiledAudience,
    compile_audiences,
    compile_definition,
    evaluate,
    next_change,
)
from clarion.audiences.memory.profile import AddressState, EventView, ProfileView

__all__ = [
    "AddressState",
    "CompiledAudience",
    "EventView",
    "ProfileView",
    "compile_audiences",
    "compile_definition",
    "evaluate",
    "next_change",
]
