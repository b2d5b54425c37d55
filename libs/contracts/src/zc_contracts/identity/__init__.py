"""Contracts published by the identity bridge."""
