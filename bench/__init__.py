"""Benchmarks that print figures measured in one run, with ratios against a baseline."""
