"""One module per subcommand; each defines `command` and is found by `ops.cli`."""
