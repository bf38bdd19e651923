"""The channel provider protocol and one module per provider."""
