"""The audience language's two compilers: SQL (sqlglot) and the in-memory evaluator.

The language itself (nodes, validation, JSON Schema) lives in
`clarion.model.audience`; what each node means, corner cases included, in
`clarion.audiences.semantics`.
"""

from clarion.audiences.dependencies import Dependencies, dependencies
from clarion.audiences.errors import (
    AudienceCompileError,
    AudienceCycle,
    NotCompilable,
    UnknownAudience,
)
from clarion.audiences.memory import (
    AddressState,
    CompiledAudience,
    EventView,
    ProfileView,
    compile_definition,
    evaluate,
    next_change,
)
from clarion.audiences.resolver import NO_REFERENCES, Resolver, StaticResolver, SubscriptionGroup
from clarion.audiences.sql.compiler import CompiledSql, compile_select, compile_sql
from clarion.audiences.sql.dialects import SqlDialect, register_dialect
from clarion.audiences.sql.run import count, duckdb_count, duckdb_members, members

__all__ = [
    "NO_REFERENCES",
    "AddressState",
    "AudienceCompileError",
    "AudienceCycle",
    "CompiledAudience",
    "CompiledSql",
    "Dependencies",
    "EventView",
    "NotCompilable",
    "ProfileView",
    "Resolver",
    "SqlDialect",
    "StaticResolver",
    "SubscriptionGroup",
    "UnknownAudience",
    "compile_definition",
    "compile_select",
    "compile_sql",
    "count",
    "dependencies",
    "duckdb_count",
    "duckdb_members",
    "evaluate",
    "members",
    "next_change",
    "register_dialect",
]
