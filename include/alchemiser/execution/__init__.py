"""Placing orders, watching them and checking settlement, through the Broker port."""
