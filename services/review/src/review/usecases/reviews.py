"""Use cases: all of the review service's use cases, built on one shared host (what the composition root wires).

Where each job lives: process definitions and migration `definitions.py`; events in (start, messages, 撤回)
`instances.py`; the reviewers' inbox, claims and decisions `tasks.py`; the applicant's trail `trails.py`; the
scheduler's passes `timers.py`; operators' actions `operations.py`; the one transition path they all take
`transitions.py`, over the database, engine and clock of `host.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from review.domain.calendar import BusinessCalendar
from review.usecases.definitions import Definitions
from review.usecases.host import WorkflowHost
from review.usecases.instances import Instances
from review.usecases.notices import Notices
from review.usecases.operations import Operations
from review.usecases.ports import InstanceStore, PeopleDirectory, WorkflowEngine
from review.usecases.tasks import Tasks
from review.usecases.timers import Timers
from review.usecases.trails import Trails
from review.usecases.transitions import TransitionWriter
from zc_db import MessagingTables


class Reviews:
    """Callers take the use case they need: the API `tasks`, `trails`, `operations` and `definitions`; the
    worker `instances`, `timers` and `definitions`."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], InstanceStore],
        engine: WorkflowEngine,
        calendar: BusinessCalendar,
        outbox: MessagingTables,
        clock: Callable[[], datetime] | None = None,
        people: PeopleDirectory | None = None,
    ) -> None:
        self.host = WorkflowHost(sessions=sessions, store=store, engine=engine, clock=clock)
        transitions = TransitionWriter(calendar=calendar, outbox=outbox, clock=self.host.now)
        self.definitions = Definitions(self.host, transitions)
        self.instances = Instances(self.host, transitions, outbox)
        self.tasks = Tasks(self.host, transitions, people)
        self.trails = Trails(self.host)
        self.timers = Timers(self.host, transitions)
        self.operations = Operations(self.host, transitions)
        self.notices = Notices(self.host, self.instances)

        # The host driven as one object, under the names bench/review_host.py and tests/integration/review use:
        # the entry points they call, and the parts they inspect or swap (an engine that forgets between steps).
        self.now = self.host.now
        self.deploy = self.definitions.deploy
        self.deploy_directory = self.definitions.deploy_directory
        self.start = self.instances.start
        self.deliver = self.instances.deliver
        self.request_withdraw = self.instances.request_withdraw
        self.inbox = self.tasks.inbox
        self.complete = self.tasks.complete
        self.fire_due = self.timers.fire_due
        self.flag_stalled = self.timers.flag_stalled
        self.operate = self.operations.operate
        self._sessions = sessions
        self._store = store
        self._definitions = self.host.parsed
        self._insert_definition = self.definitions._insert_definition

    @property
    def _engine(self) -> WorkflowEngine:
        return self.host.engine

    @_engine.setter
    def _engine(self, engine: WorkflowEngine) -> None:
        self.host.engine = engine

    @property
    def _people(self) -> PeopleDirectory | None:
        return self.tasks.people

    @_people.setter
    def _people(self, people: PeopleDirectory | None) -> None:
        self.tasks.people = people
