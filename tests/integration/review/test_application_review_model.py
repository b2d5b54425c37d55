"""A Hypothesis state machine drives bpmn/application_review through the host with random actors and
decisions, against a small reference model of the rules: no stage is skipped, nobody acts without the
role and scope for the current step, and approval comes only after every step approved."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select, text

from integration.review.conftest import DIRECTORY, REPO, UNIT, review_settings
from review.adapters.db.tables import messaging
from review.adapters.people import NatsPeopleDirectory
from review.bootstrap import build_reviews
from review.consumers import PROCESS_DEFAULTS
from review.domain.errors import DomainError
from review.usecases.reviews import Reviews as ReviewService
from review.usecases.tasks import Decision
from support.clock import Clock
from support.engines import ENGINE_MODES, use_engine_mode
from support.grants import grants_directory
from zc_auth import Principal, Role, RoleGrant, ScopeType
from zc_contracts import Envelope
from zc_db import create_engine, create_session_factory
from zc_messaging.connection import NatsConnection

# The working-day calendar holds 2026 only (2027's schedule is published in November): every example starts early
# in the year, and notice periods stop passing a month before its end, so no deadline is computed into 2027.
START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing
LAST_NOTICE = datetime(2026, 11, 20, tzinfo=UTC)

D1, D2 = "0193a1f0-0000-7000-8000-00000000d001", "0193a1f0-0000-7000-8000-00000000d002"
COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"
EXPERTS = ("usr_e1", "usr_e2", "usr_e3")


def principal(subject: str, *grants: RoleGrant | Role) -> Principal:
    roles = frozenset(g if isinstance(g, RoleGrant) else RoleGrant(g, ScopeType.GLOBAL) for g in grants)
    return Principal(subject, None, roles, "tests", datetime.now(UTC) + timedelta(hours=1))


ACTORS = {
    "unit": principal("usr_unit", RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT)),
    "other_unit": principal("usr_other", RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, str(uuid.UUID(int=7)))),
    "dept1": principal("usr_d1", RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, D1)),
    "dept2": principal("usr_d2", RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, D2)),
    "committee": principal("usr_c", RoleGrant(Role.COMMITTEE_STAFF, ScopeType.COMMITTEE, COMMITTEE)),
    "authority": principal("usr_auth", RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510100")),
    "other_authority": principal("usr_auth2", RoleGrant(Role.AUTHORITY, ScopeType.REGION, "511100")),
    "applicant": principal("usr_applicant", Role.APPLICANT),
    **{e: principal(e, Role.EXPERT) for e in EXPERTS},
}
DEPTS = (D1, D2)
REACHED: set[str] = set()  # steps the examples got to (the run must explore past the committee)


@dataclass
class Model:
    """Where the application should be, by the rules alone."""

    method: str
    step: str = "unit_review"  # or unit_notice, dept, committee_accept, assign_experts, expert_vote,
    # result_notice, authority_confirm, issuance_data, entrusting_issue, returned, approved, rejected
    dept: int = 0
    returned_from: str = ""
    votes: dict[str, str] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)  # every approval, in order

    def entitled(self) -> set[str]:
        match self.step:
            case "unit_review":
                return {"unit"}
            case "entrusting_issue":  # the department that issued the 委托评审函 (the nearest one)
                return {"dept1"}
            case "dept":
                return {f"dept{self.dept + 1}"}
            case "committee_accept" | "assign_experts" | "issuance_data":
                return {"committee"}
            case "expert_vote":
                return {e for e in EXPERTS if e not in self.votes}
            case "authority_confirm":
                return {"authority"}
        return set()

    def allowed(self, decision: str) -> bool:
        if self.step in ("assign_experts", "issuance_data", "entrusting_issue"):
            return decision == "approve"
        if self.step in ("expert_vote", "authority_confirm"):
            return decision in ("approve", "reject")
        return True

    def apply(self, actor: str, decision: str, target: str) -> None:
        if decision == "reject" and self.step != "expert_vote":
            self.step = "rejected"
            return
        if decision == "return":
            if self.step == "dept" and target == "previous":
                self.dept -= 1
                if self.dept < 0:
                    self.dept, self.step = 0, "unit_review"
                return
            self.returned_from, self.step = self.step, "returned"
            return
        self.passed.append(self.step if self.step != "dept" else f"dept{self.dept + 1}")
        match self.step:
            case "unit_review":
                self.step = "unit_notice"
            case "dept":
                self.dept += 1
                if self.dept == len(DEPTS):
                    self.step = "committee_accept"
            case "committee_accept":
                self.step = "assign_experts"
            case "assign_experts":
                self.step, self.votes = "expert_vote", {}
            case "expert_vote":
                self.votes[actor] = decision
                if len(self.votes) == len(EXPERTS):
                    yes = sum(1 for v in self.votes.values() if v == "approve")
                    self.step = "result_notice" if yes * 3 >= 2 * len(EXPERTS) else "rejected"
            case "authority_confirm":
                self.step = "issuance_data"
            case "issuance_data" | "entrusting_issue":
                self.step = "approved"


class ApplicationReviewMachine(RuleBasedStateMachine):
    reviews: ReviewService
    loop: asyncio.AbstractEventLoop
    clock: Clock

    @initialize(method=st.sampled_from(["SHEHUIHUA", "WEITUO", "ZHONGYANG_ZAICHUAN"]))
    def submit(self, method: str) -> None:
        self.key = str(uuid.uuid4())
        self.model = Model(method=method)
        data = {
            "application_id": self.key,
            "applicant_id": "usr_applicant",
            "unit_id": UNIT,
            "department_ids": list(DEPTS),
            "department_id": D1,
            "committee_id": COMMITTEE,
            "authority_region": "510100",
            "method": method,
            **PROCESS_DEFAULTS,
        }

        async def start() -> None:
            async with self.reviews._sessions() as s, s.begin():
                await self.reviews.start(s, "application_review", self.key, data)

        self.run(start())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def visible(self, actor: str) -> list[dict[str, Any]]:
        page = self.run(self.reviews.inbox(ACTORS[actor], {}, sort="created_at", descending=False, page=1, size=100))
        return [t for t in page["items"] if t["business_key"] == self.key]

    @rule(
        actor=st.sampled_from(sorted(ACTORS)),
        decision=st.sampled_from(["approve", "approve", "approve", "return", "reject"]),
        back_to=st.sampled_from(["applicant", "previous"]),
    )
    def act(self, actor: str, decision: str, back_to: str) -> None:
        tasks = self.visible(actor)
        if actor not in self.model.entitled():
            assert tasks == [], f"{actor} sees a task at {self.model.step}"
            return
        assert len(tasks) == 1, (actor, self.model.step, tasks)
        form: dict[str, Any] = {}
        if decision == "approve" and self.model.step == "assign_experts":
            form = {"experts": list(EXPERTS)}
        if decision == "approve" and self.model.step in ("issuance_data", "entrusting_issue"):
            form = {"document_number": "川职〔2026〕1号", "issue_date": "2026-12-30"}
        reasons = ("材料不全",) if decision == "return" else ()
        choice = Decision(decision, None, reasons, back_to, form)
        try:
            self.run(self.reviews.complete(ACTORS[actor], uuid.UUID(tasks[0]["task_id"]), choice, idempotency_key=None))
        except DomainError as exc:
            assert not self.model.allowed(decision), exc.message
            return
        assert self.model.allowed(decision)
        self.model.apply(actor, decision, back_to)

    @precondition(lambda self: bool(self.model.entitled()))
    @rule(data=st.data())
    def act_as_entitled(self, data: st.DataObject) -> None:
        """Mostly approvals by someone entitled, so that examples get deep into the process."""
        actor = data.draw(st.sampled_from(sorted(self.model.entitled())))
        decision = data.draw(st.sampled_from(["approve"] * 8 + ["return", "reject"]))
        self.act(actor, decision, data.draw(st.sampled_from(["applicant", "previous"])))
        REACHED.add(self.model.step)

    @precondition(lambda self: self.model.step == "returned")
    @rule()
    def resubmit(self) -> None:
        async def go() -> bool:
            async with self.reviews._sessions() as s, s.begin():
                return await self.reviews.deliver(s, self.key, "resubmitted", {})

        assert self.run(go())
        self.model.step = self.model.returned_from

    @precondition(lambda self: self.model.step in ("unit_notice", "result_notice") and self.clock.now < LAST_NOTICE)
    @rule()
    def notice_ends(self) -> None:
        self.clock.now += timedelta(days=8)
        self.run(self.reviews.fire_due())
        if self.model.step == "unit_notice":
            self.model.step, self.model.dept = "dept", 0
        else:
            entrusted = self.model.method in ("WEITUO", "ZHONGYANG_ZAICHUAN")
            self.model.step = "entrusting_issue" if entrusted else "authority_confirm"

    @invariant()
    def matches_the_model(self) -> None:
        if not hasattr(self, "model"):
            return
        events = self.run(self.outbox())
        approved = [e for e in events if e["type"] == "review.application.approved"]
        if self.model.step == "approved":
            assert len(approved) == 1
            steps = ["unit_review", "dept1", "dept2", "committee_accept", "assign_experts"]
            assert all(s in self.model.passed for s in steps)
            assert self.model.passed[-1] in ("issuance_data", "entrusting_issue")
        else:
            assert approved == []
        finished = self.model.step in ("approved", "rejected")
        status = self.run(self.status())
        assert (status == "completed") == finished, (status, self.model.step)

    async def outbox(self) -> list[dict[str, Any]]:
        async with self.reviews._sessions() as s:
            rows = await s.execute(select(messaging.outbox.c.payload))
            envelopes = [Envelope.from_bytes(r.payload) for r in rows]
        return [{"type": e.type, **e.data} for e in envelopes if e.subject_id == self.key]

    async def status(self) -> str:
        async with self.reviews._sessions() as s:
            return str(
                (
                    await s.execute(
                        text("SELECT status FROM process_instances WHERE business_key = :k ORDER BY created_at DESC"),
                        {"k": self.key},
                    )
                ).scalar_one()
            )


@pytest.mark.parametrize("mode", ENGINE_MODES)
def test_application_review_follows_the_rules(review_db: str, nats_url: str, mode: str) -> None:
    """The rules hold with one engine, a fresh engine per step, and two engines in turn (issue 18)."""
    loop = asyncio.new_event_loop()
    engine = create_engine(review_db)
    clock = Clock(START)
    # the panel is named from the committee's experts, as the identity bridge answers over NATS
    directory = grants_directory(nats_url, {**DIRECTORY, ("expert", "committee", COMMITTEE): set(EXPERTS)})
    loop.run_until_complete(directory.__aenter__())
    nats = NatsConnection(nats_url, name="review-model")
    loop.run_until_complete(nats.start())
    loop.run_until_complete(nats.wait_connected())
    people = NatsPeopleDirectory(nats)
    reviews = build_reviews(
        review_settings(review_db, nats_url), create_session_factory(engine), clock=clock, people=people
    )
    use_engine_mode(reviews, mode)
    source = (REPO / "bpmn/application_review/application_review.bpmn").read_text(encoding="utf-8")
    try:
        loop.run_until_complete(reviews.deploy("application_review", source, deployed_by="tests", trusted=True))

        class Machine(ApplicationReviewMachine):
            def __init__(self) -> None:
                super().__init__()
                self.reviews, self.loop, self.clock = reviews, loop, clock
                clock.now = START  # every example starts on the same day

        Machine.TestCase.settings = settings(
            max_examples=40,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        Machine.TestCase().runTest()
        assert REACHED & {"expert_vote", "result_notice", "authority_confirm", "approved"}, REACHED
    finally:
        loop.run_until_complete(nats.close())
        loop.run_until_complete(directory.__aexit__(None, None, None))
        loop.run_until_complete(engine.dispose())
        loop.close()
