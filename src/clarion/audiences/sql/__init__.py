"""The SQL compiler: definitions to sqlglot expressions, generated per dialect."""
