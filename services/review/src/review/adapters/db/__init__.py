"""Adapters: this service's own PostgreSQL database."""
