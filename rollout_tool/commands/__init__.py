"""One module per command: plain functions the CLI and the bot both call."""
