"""DB layer: operations service migrations share (the outbox and inbox tables at their first version).

A later change to `messaging_tables` needs its own migration in every service; this helper only
creates the tables as they are declared now.
"""

from __future__ import annotations

from typing import Any

from zc_db.base import new_metadata
from zc_db.messaging_tables import messaging_tables


def create_messaging_tables(op: Any) -> None:
    tables = messaging_tables(new_metadata())
    bind = op.get_bind()
    tables.outbox.create(bind)
    tables.inbox.create(bind)


def drop_messaging_tables(op: Any) -> None:
    tables = messaging_tables(new_metadata())
    bind = op.get_bind()
    tables.inbox.drop(bind)
    tables.outbox.drop(bind)
