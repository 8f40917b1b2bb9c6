"""Benchmarks: the chain's ceiling, end to end through real gateways, and offline verification."""
