"""Benchmarks: each bench_*.py runs on its own and prints median figures."""
