"""The working-day calendar and the engine adapter without a database."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from review.adapters.workflow.spiff import InvalidProcessError, SpiffEngine
from review.domain.calendar import BusinessCalendar, CalendarGapError

REPO = Path(__file__).resolve().parents[3]
SOURCE = (REPO / "tests" / "support" / "bpmn" / "host_test.bpmn").read_text(encoding="utf-8")
CALENDAR = BusinessCalendar.load()


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        # Friday 10:00 -> the 5th working day after it is next Friday; it ends at 24:00 Beijing time
        (datetime(2026, 11, 27, 2, 0, tzinfo=UTC), 5, datetime(2026, 12, 4, 16, 0, tzinfo=UTC)),
        # before 国庆: Sep 30 + 3 working days skips Oct 1-7 and counts Thu Oct 8, Fri Oct 9, Sat Oct 10 (调休)
        (datetime(2026, 9, 30, 2, 0, tzinfo=UTC), 3, datetime(2026, 10, 10, 16, 0, tzinfo=UTC)),
        # Sunday Sep 20 is a working day (调休): counted from Friday Sep 18
        (datetime(2026, 9, 18, 2, 0, tzinfo=UTC), 1, datetime(2026, 9, 20, 16, 0, tzinfo=UTC)),
        # 春节: Feb 13 + 1 -> Sat Feb 14 is a working day
        (datetime(2026, 2, 13, 2, 0, tzinfo=UTC), 2, datetime(2026, 2, 24, 16, 0, tzinfo=UTC)),
    ],
)
def test_working_days_follow_holidays_and_adjusted_weekends(start: datetime, days: int, end: datetime) -> None:
    assert CALENDAR.add_working_days(start, days) == end


def test_a_year_without_a_schedule_is_an_error_not_a_guess() -> None:
    with pytest.raises(CalendarGapError) as err:
        CALENDAR.add_working_days(datetime(2026, 12, 28, 2, 0, tzinfo=UTC), 5)
    assert "2027" in err.value.message


NOTICE_DUE = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # 24:00 Beijing time ending Friday 2026-12-04


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (datetime(2026, 11, 27, 2, 0, tzinfo=UTC), 5),  # Friday before: Mon-Fri to go
        (datetime(2026, 12, 3, 15, 59, tzinfo=UTC), 1),  # Thursday 23:59 Beijing: Friday to go
        (datetime(2026, 12, 4, 15, 59, tzinfo=UTC), 0),  # the last day itself
        (datetime(2026, 12, 5, 3, 0, tzinfo=UTC), 0),  # past due on Saturday: no working day lost yet
        (datetime(2026, 12, 8, 3, 0, tzinfo=UTC), -2),  # Tuesday after: Monday and Tuesday overdue
        # 国庆: due at the end of Sep 30, overdue on Oct 8 by one working day only (Oct 1-7 are holidays)
        (datetime(2026, 10, 8, 2, 0, tzinfo=UTC), -1),
    ],
)
def test_working_days_left_count_the_days_a_deadline_shows(now: datetime, left: int) -> None:
    due = NOTICE_DUE if now.month != 10 else datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert CALENDAR.working_days_left(now, due) == left


def test_parse_rejects_entities_and_invalid_diagrams() -> None:
    engine = SpiffEngine(CALENDAR)
    billion = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>'
    with pytest.raises(InvalidProcessError, match="DTD"):
        engine.parse("x", billion)
    with pytest.raises(InvalidProcessError, match="校验失败"):
        engine.parse("host_test", SOURCE.replace("<bpmn:startEvent", "<bpmn:bogusEvent"))
    with pytest.raises(InvalidProcessError, match="不是合法的 XML"):
        engine.parse("host_test", SOURCE[:200])


def test_the_state_holds_no_spec_and_loops_do_not_grow_it() -> None:
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse("host_test", SOURCE)
    assert definition.user_tasks == ("dept_review", "unit_review")
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    state = engine.start(definition, {"unit_id": "u1"}, now=now)
    assert "spec" not in state.state["workflow"][:200]
    sizes = []
    for i in range(1000):
        state = engine.complete_task(
            definition,
            state.state,
            state.open_tasks[0].task_id,
            {"decision": "return", "comment": str(i), "stage": "unit"},
            now=now,
        )
        state = engine.deliver_message(definition, state.state, "resubmitted", {"round": i}, now=now)
        sizes.append(state.tree_size)
    assert [t.name for t in state.open_tasks] == ["unit_review"]
    assert max(sizes[20:]) == max(sizes[-20:]) < 40
    assert state.data["resubmission"] == {"round": 999}


def test_each_step_names_the_elements_it_passed_and_where_the_instance_waits() -> None:
    """What the operator console draws: the path taken (per step, as compaction drops it from the state) and the
    element each timer or message waits at."""
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse("host_test", SOURCE)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    started = engine.start(definition, {"unit_id": "u1"}, now=now)
    assert started.passed == ("start", "merge_unit")
    returned = engine.complete_task(
        definition,
        started.state,
        started.open_tasks[0].task_id,
        {"decision": "return", "comment": "请补充", "stage": "unit"},
        now=now,
    )
    assert returned.passed == ("unit_review", "gw_unit", "returned")  # the withdraw boundary event was cancelled
    assert [(w.kind, w.name, w.element_id) for w in returned.waiting] == [
        ("message", "resubmitted", "wait_resubmission")
    ]
    again = engine.deliver_message(definition, returned.state, "resubmitted", {}, now=now)
    assert again.passed == ("wait_resubmission", "merge_unit")
    noticed = engine.complete_task(
        definition, again.state, again.open_tasks[0].task_id, {"decision": "approve"}, now=now
    )
    assert noticed.passed == ("unit_review", "gw_unit")
    assert [(w.kind, w.element_id, w.due_at) for w in noticed.waiting] == [("timer", "unit_notice", NOTICE_DUE)]
    fired = engine.fire_timers(definition, noticed.state, now=NOTICE_DUE + timedelta(seconds=1))
    assert fired.passed == ("unit_notice",) and fired.waiting == ()


def test_an_event_based_gateway_names_each_event_it_waits_for() -> None:
    """The unit 公示 waits at a gateway for its timer or an objection: each awaited event is named by its own
    element (where the console draws the due time), the token by the gateway."""
    source = (REPO / "bpmn" / "application_review" / "application_review.bpmn").read_text(encoding="utf-8")
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse("application_review", source)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    data = {"application_id": "a1", "applicant_id": "p1", "unit_id": "u1", "department_ids": ["d1"]}
    started = engine.start(definition, {**data, "method": "SHEHUIHUA", "series_code": "GC"}, now=now)
    task_id = started.open_tasks[0].task_id
    noticed = engine.complete_task(
        definition, started.state, task_id, {"decision": "approve", "stage": "unit"}, now=now
    )
    assert [(w.kind, w.element_id, w.token_at, w.due_at) for w in noticed.waiting] == [
        ("timer", "unit_notice_ends", "unit_notice", NOTICE_DUE),
        ("message", "unit_objection", "unit_notice", None),
    ]


def test_a_loaded_instance_links_its_tasks_by_the_very_ids_it_is_keyed_by_and_dumps_back_unchanged() -> None:
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse("host_test", SOURCE)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    started = engine.start(definition, {"unit_id": "u1"}, now=now)
    waiting = engine.complete_task(
        definition, started.state, started.open_tasks[0].task_id, {"decision": "approve"}, now=now
    )
    assert [w.kind for w in waiting.waiting] == ["timer"]
    workflow = engine._load(definition, waiting.state)
    keys = {id(k) for k in workflow.tasks}
    for task in workflow.tasks.values():
        assert id(task.id) in keys
        assert task._parent is None or id(task._parent) in keys
        assert all(id(child) in keys for child in task._children)
    assert engine._dump(workflow) == waiting.state
    # the interned ids are UUIDs in every way that matters to the library
    some = next(iter(workflow.tasks))
    plain = UUID(str(some))
    assert some == plain and plain == some and hash(some) == hash(plain)
    assert workflow.tasks[plain] is workflow.tasks[some]
    assert copy.deepcopy(some) == some and type(copy.deepcopy(some)) is UUID


def test_task_data_keep_their_types_through_a_save_and_a_load() -> None:
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse("host_test", SOURCE)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    data = {"unit_id": "u1", "申报人": "张三", "at": now, "tags": {"a"}, "n": 2**70, "ratio": 0.1, "pair": (1, 2)}
    state = engine.start(definition, data, now=now)
    loaded = engine._load(definition, state.state).task_tree.data
    assert loaded == {**data, "tags": ["a"], "pair": [1, 2]}
    assert type(loaded["at"]) is datetime


def test_the_engine_does_not_log_each_task_state_change(caplog: pytest.LogCaptureFixture) -> None:
    # the library logs every state change at INFO (about ten lines a completion); the history table has them
    caplog.set_level(logging.INFO)
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse("host_test", SOURCE)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    state = engine.start(definition, {"unit_id": "u1"}, now=now)
    engine.complete_task(definition, state.state, state.open_tasks[0].task_id, {"decision": "approve"}, now=now)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("spiff")] == []
    assert logging.getLogger("spiff.task").isEnabledFor(logging.WARNING)  # its warnings still pass


@pytest.mark.parametrize(
    ("education", "years", "level"),
    [
        ("博士研究生", 0, "ZHONGJI"),
        ("硕士研究生", 3, "ZHONGJI"),
        ("硕士研究生", 2, "ZHULI"),
        ("大学本科", 1, "ZHULI"),
        ("大学本科", 0, "NONE"),
        ("大学专科", 3, "ZHULI"),
        ("大学专科", 1, "YUANJI"),
        ("中等专科", 5, "ZHULI"),
        ("中等专科", 4, "YUANJI"),
        ("中等专科", 0, "NONE"),
        ("高中", 10, "NONE"),
        (None, None, "NONE"),
    ],
)
def test_initial_determination_eligibility_table(education: str | None, years: int | None, level: str) -> None:
    folder = REPO / "bpmn" / "initial_determination"
    engine = SpiffEngine(CALENDAR)
    definition = engine.parse(
        "initial_determination",
        (folder / "initial_determination.bpmn").read_text(encoding="utf-8"),
        [(folder / "initial_determination.dmn").read_text(encoding="utf-8")],
    )
    data = {"unit_id": "u", "department_ids": [], "education_level": education, "work_years": years}
    state = engine.start(definition, {**data, "resubmit_deadline": None}, now=datetime(2026, 11, 27, tzinfo=UTC))
    assert state.error is None
    assert state.data["recommended_level"] == level


def test_transition_rows_are_written_as_json_whatever_the_driver_handed_back() -> None:
    from asyncpg.pgproto.pgproto import UUID as DriverUUID

    from review.adapters.db.instance_store import _json

    at = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    row = {"id": DriverUUID("6ad126d2-8298-4309-a4b6-9a4e0e3a69c3"), "task": UUID(int=1), "at": at, "名": "张三"}
    expected = {
        "id": "6ad126d2-8298-4309-a4b6-9a4e0e3a69c3",
        "task": str(UUID(int=1)),
        "at": at.isoformat(),
        "名": "张三",
    }
    assert json.loads(_json([row])) == [expected]
    assert json.loads(_json([{**row, "n": 2**70}])) == [{**expected, "n": 2**70}]  # beyond orjson: json writes it


def test_the_parsed_spec_cache_is_bounded_by_the_size_of_the_texts() -> None:
    """Designers may deploy any number of versions and validate any number of uploads (issue 17, item 8)."""
    engine = SpiffEngine(CALENDAR, parsed_cache_chars=2 * len(SOURCE) + 100)
    versions = [SOURCE.replace("单位审核", f"单位审核{i}") for i in range(4)]
    parsed = [engine.parse("host_test", text) for text in versions]
    assert len(engine._parsed) == 2
    assert engine.parse("host_test", versions[3]) is parsed[3]  # the newest stay
    assert engine.parse("host_test", versions[0]) is not parsed[0]  # the oldest was dropped and parsed again


MI_VOTES = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="votes_defs" targetNamespace="https://zhicheng.example/bpmn">
  <bpmn:process id="votes" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_expert" name="expert"><bpmn:flowNodeRef>vote</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="vote" />
    <bpmn:userTask id="vote" name="专家评议表决">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="expert_vote_v1" />
          <spiffworkflow:property name="decisions" value="approve,reject" />
          <spiffworkflow:property name="decisionVariable" value="vote_value" />
          <spiffworkflow:property name="assignee" value="expert" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:multiInstanceLoopCharacteristics>
        <bpmn:loopDataInputRef>experts</bpmn:loopDataInputRef>
        <bpmn:loopDataOutputRef>votes</bpmn:loopDataOutputRef>
        <bpmn:inputDataItem id="expert" name="expert" />
        <bpmn:outputDataItem id="vote_value" name="vote_value" />
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="vote" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("mode", ["one engine", "a fresh engine and parse per step"])
def test_votes_completed_in_another_process_close_the_multi_instance_step(mode: str) -> None:
    """Issue 18: the process that loads the instance for the votes is often not the one that created them."""
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    first = SpiffEngine(CALENDAR)

    def engine() -> tuple[SpiffEngine, Any]:
        e = first if mode == "one engine" else SpiffEngine(CALENDAR)
        return e, e.parse("votes", MI_VOTES)

    e, definition = engine()
    state = e.start(definition, {"experts": ["e1", "e2", "e3"], "votes": []}, now=now)
    assert len(state.open_tasks) == 3
    for decision in ("approve", "approve", "reject"):
        e, definition = engine()
        state = e.complete_task(definition, state.state, state.open_tasks[0].task_id, {"decision": decision}, now=now)
    assert state.status == "completed", (state.status, state.open_tasks, state.waiting)
    assert sorted(state.data["votes"]) == ["approve", "approve", "reject"]
