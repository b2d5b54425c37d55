"""Use cases: what every review use case works through — the database, the engine and its parsed definitions,
the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from cachetools import LRUCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from review.domain.errors import NotFoundError
from review.usecases.ports import InstanceStore, ProcessDefinition, Row, WorkflowEngine

DEFINITIONS_CACHE_CHARS = 32 * 1024 * 1024  # characters of diagram text whose parsed definitions are kept


class DefinitionSource(Protocol):
    """Where a definition row is read: the session's InstanceStore, or a completion's own connection."""

    async def definition(self, definition_id: UUID) -> Row | None: ...


class WorkflowHost:
    """One per service, shared by its use cases: an engine swapped here (or a cache cleared) reaches them all."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], InstanceStore],
        engine: WorkflowEngine,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))
        # definition id -> (version, parsed): bounded like the engine's own cache (by the size of the texts)
        self.parsed: LRUCache[UUID, tuple[int, ProcessDefinition]] = LRUCache(
            maxsize=DEFINITIONS_CACHE_CHARS, getsizeof=lambda entry: entry[1].text_size
        )

    def now(self) -> datetime:
        return self._clock()

    async def definition(self, store: DefinitionSource, definition_id: UUID) -> tuple[int, ProcessDefinition]:
        """The stored definition's version and its parse (parsed once, then kept)."""
        cached = self.parsed.get(definition_id)
        if cached is None:
            row = await store.definition(definition_id)
            if row is None:
                raise NotFoundError("流程定义不存在")
            cached = (row["version"], self.engine.parse(row["process_key"], row["source"], row["decisions"]))
            self.parsed[definition_id] = cached
        return cached
