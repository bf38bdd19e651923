"""The `clarion` command line (typer + rich)."""
