"""Alpaca through the official alpaca-py clients; nothing outside this package sees SDK types."""
