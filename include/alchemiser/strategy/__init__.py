"""Strategies: the portfolio config, and the evaluators that turn market data into weights."""
