"""The audience language.

Parse and validate, compile to SQL, evaluate in memory, incremental membership.
"""
