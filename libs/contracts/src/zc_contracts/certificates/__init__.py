"""Contracts published by the certificates service."""
