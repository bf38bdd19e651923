"""Profile store operations, identity resolution and merge."""
