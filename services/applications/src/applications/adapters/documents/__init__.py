"""Adapters: documents the service hands out (Word templates), made with python-docx."""
