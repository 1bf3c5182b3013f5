"""Benchmarks: modules that measure and print a Markdown table (`nox -s bench`). Never part of the test suite."""
