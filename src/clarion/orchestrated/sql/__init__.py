"""Canvas SQL: step compilers per engine (sqlglot)."""
