"""Targets plus a portfolio snapshot in, a rebalance plan out: pure functions."""
