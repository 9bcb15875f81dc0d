"""Adapters: one package per outside system, each implementing a port."""
