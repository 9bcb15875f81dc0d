"""Replay of past sessions: simulated fills at the close, never an order endpoint."""
