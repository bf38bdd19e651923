"""Experiments: allocation (mmh3 buckets), metrics and statistics."""
