"""Offline tooling: the recording mock engine, the plan CLI and the benchmark."""
