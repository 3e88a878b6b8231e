"""The on-call engineer's operations CLI for a deployed LangGraph platform stack (`python -m ops`).

Every subcommand reads the stack's outputs (`pulumi stack output --json --show-secrets` piped in,
or `--outputs FILE`) and prints a report of checks, each OK / WARN / FAIL with the number behind it
and the runbook to open; `--json` prints the same report as JSON. Exit codes: see `ops.report`.
"""
