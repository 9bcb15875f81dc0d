"""Order identity and the trade ledger: what makes every order effect exactly-once."""
