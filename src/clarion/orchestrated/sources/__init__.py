"""Data sources of canvases: DuckDB (default), PostgreSQL, Spark SQL."""
