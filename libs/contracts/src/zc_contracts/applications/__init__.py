"""Contracts published by the applications service."""
