"""Benchmarks: `python -m bench [scenario ...]`; each scenario is a module here with a `main()` function."""
