"""Contracts published by the review service."""
