"""Helpers for scripts/bench (failover and resume benchmarks on loopback)."""
