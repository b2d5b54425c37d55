"""Test support: unique names so tests never share data."""

from __future__ import annotations

import secrets


def random_suffix(n: int = 8) -> str:
    return secrets.token_hex(n // 2)


def random_db_name(prefix: str = "t") -> str:
    return f"{prefix}_{random_suffix(12)}"
