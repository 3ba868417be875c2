"""Benchmark of the launch manager against a minimal baseline (see bench/run.py)."""
