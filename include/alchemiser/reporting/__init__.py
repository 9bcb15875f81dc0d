"""Presentation of run reports: the weights chart (PNG) and the HTML page."""
