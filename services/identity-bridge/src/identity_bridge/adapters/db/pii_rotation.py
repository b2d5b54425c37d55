"""Adapters: re-encrypt stored personal data under the active PII key (run after adding a new key).

    python -m identity_bridge.adapters.db.pii_rotation     (uses the service's IDENTITY_* settings)

Rows are rewritten in batches, each batch its own transaction, so the job can stop and resume anywhere.
Once it reports 0 rows left, the old key can be removed from IDENTITY_PII_KEYS.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_bridge.adapters.db.tables import sessions as sessions_table
from identity_bridge.adapters.db.tables import users
from zc_db.pii import PiiCipher

log = logging.getLogger("identity_bridge.pii_rotation")

# (table, primary key column, encrypted column, encryption context)
_COLUMNS = (
    (users, users.c.id, users.c.id_number_enc, "user.id_number"),
    (users, users.c.id, users.c.phone_enc, "user.phone"),
    (sessions_table, sessions_table.c.id, sessions_table.c.provider_id_token_enc, "session.id_token"),
)


async def rotate_pii(db: async_sessionmaker[AsyncSession], cipher: PiiCipher, *, batch_size: int = 500) -> int:
    """Returns how many values were re-encrypted."""
    rotated = 0
    for table, pk, column, context in _COLUMNS:
        last = None
        while True:
            async with db() as s, s.begin():
                query = select(pk, column).where(column.is_not(None)).order_by(pk).limit(batch_size)
                if last is not None:
                    query = query.where(pk > last)
                rows = (await s.execute(query.with_for_update(skip_locked=True))).all()
                for key, blob in rows:
                    if cipher.needs_rotation(blob):
                        await s.execute(
                            update(table).where(pk == key).values({column.name: cipher.rotate(blob, context=context)})
                        )
                        rotated += 1
            if len(rows) < batch_size:
                break
            last = rows[-1][0]
    log.info("re-encrypted %s values under key %s", rotated, cipher.active_key_id)
    return rotated


def main() -> None:
    from identity_bridge.settings import Settings, pii_cipher
    from zc_db import create_engine, create_session_factory
    from zc_http import load_settings

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = load_settings(Settings)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await rotate_pii(create_session_factory(engine), pii_cipher(settings))
        finally:
            await engine.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    main()
