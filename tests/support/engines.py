"""A workflow engine that forgets between steps: what a replica, a restart or a redeploy does to an instance.

`RestartingEngine` answers every call on a new SpiffEngine with a new parse of the definition ("fresh"), or on
one of two engines in turn ("alternate"). Whatever one engine keeps in memory (parsed specs and the wiring the
library makes on them while it runs) must never change an outcome, so the workflow tests run in these modes
too and must end exactly as with one engine (issue 18).
"""

from __future__ import annotations

import itertools
from typing import Any

from review.adapters.workflow.spiff import SpiffEngine
from review.domain.calendar import BusinessCalendar
from review.usecases.ports import ProcessDefinition

ENGINE_MODES = ("one engine", "fresh", "alternate")


class RestartingEngine:
    def __init__(self, calendar: BusinessCalendar, mode: str) -> None:
        assert mode in ("fresh", "alternate")
        self._calendar = calendar
        self._turns = itertools.cycle([SpiffEngine(calendar), SpiffEngine(calendar)])
        self.mode = mode

    def _engine(self) -> SpiffEngine:
        return SpiffEngine(self._calendar) if self.mode == "fresh" else next(self._turns)

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            engine = self._engine()
            # a definition parsed by another engine is parsed again by this one, as another process would
            again = [
                engine.parse(a.process_key, a.source, a.decisions) if isinstance(a, ProcessDefinition) else a
                for a in args
            ]
            return getattr(engine, name)(*again, **kwargs)

        return call


def use_engine_mode(reviews: Any, mode: str) -> None:
    """Swap the review service's engine (and forget its parsed definitions) for a mode of ENGINE_MODES."""
    if mode == "one engine":
        return
    reviews._engine = RestartingEngine(BusinessCalendar.load(), mode)
    reviews._definitions.clear()
