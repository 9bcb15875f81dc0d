"""Command-line tools: one module per subcommand, registered in `cli.main`."""
