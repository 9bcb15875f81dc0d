"""Risk controls checked before any order: a plan that breaks a limit is rejected whole."""
