"""Orchestrated campaigns.

Canvas activities to a logical plan to SQL per engine, work tables, exact counts.
"""
