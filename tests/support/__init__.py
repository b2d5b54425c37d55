"""Test support shared by every test level."""
