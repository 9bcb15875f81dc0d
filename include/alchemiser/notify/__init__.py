"""Run notifications: what a success or failure message says (pure)."""
