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


# The outbox relay LISTENs on this channel: a statement-level trigger notifies it when rows are inserted, and
# PostgreSQL delivers the notification at commit (once per transaction), so no writer pays a round trip for it
# and the relay need not wait for its next poll.
OUTBOX_CHANNEL = "zc_outbox"


def create_outbox_notify(op: Any) -> None:
    op.execute(
        "CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )


def drop_outbox_notify(op: Any) -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
