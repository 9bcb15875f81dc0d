"""Backtests: walk every session of a range through the live decision path, at the close."""
