"""Adapters: the WorkflowEngine port on SpiffWorkflow 3.2 — the only module that imports it.

What this adapter adds to the library (see ../shared/notes/spiffworkflow-3.2.md):
- specs are parsed once per (process key, content hash) with the XSD validator and never serialized:
  the instance state holds no spec, and loading takes the cached parsed spec (the fast "V3" variant);
- every expression and script of a diagram is evaluated by our sandbox (an allowlisted AST walked by
  simpleeval, sandbox.py; decision 0016), never by the library's eval/exec; the script engine carrying it is
  re-attached after every load (P14), and `call_service` does no I/O;
- task data are set with `set_data` (P1);
- "now" is injected per call, so timers follow the host's clock, not the wall clock;
- compaction keeps the task tree flat: finished history above the point where every unfinished task
  hangs is cut out after each step (our history table keeps it), so a return loop costs the same
  the 1,000th time as the first (P8, §5.2);
- a flat per-step cost that is also small: loading links tasks through one interned id object each (the
  library resolves parents and children through a dict hundreds of times per step), a text's checked tree
  is cached, and the checks after a step scan the tasks dict instead of walking the tree.
"""

from __future__ import annotations

import ast
import contextvars
import copy
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import datetime as _datetime
from itertools import chain
from typing import Any
from uuid import UUID, SafeUUID

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
from cachetools import LRUCache
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from review.adapters.workflow.lint import hardened_parse, lint_all, owner_id
from review.adapters.workflow.sandbox import ExpressionError, Sandbox, check
from review.domain.calendar import BusinessCalendar
from review.domain.errors import DomainError
from review.usecases.ports import (
    DiagramProblem,
    EngineError,
    EngineState,
    InstanceStatus,
    MigrationPlan,
    NotWaitingError,
    OpenTask,
    OutboundEvent,
    ProcessDefinition,
    WaitingEvent,
)
from zc_db import json_dumps, json_loads

STATE_FORMAT = "zc-spiff-1"  # our state layout on top of the library's serializer version
_MIGRATABLE_VERSIONS = frozenset({"1.2", "1.3", "1.4", SERIALIZER_VERSION})

# -- the clock the engine sees -------------------------------------------------------------------------

_NOW: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("zc_engine_now", default=None)


class _HostClockDatetime(_datetime):
    """Spiff's timer module asks `datetime.now(timezone.utc)`; during our calls it gets the host's now."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        injected = _NOW.get()
        if injected is None:
            return _datetime.now(tz)
        return injected.astimezone(tz) if tz is not None else injected


spiff_timer.datetime = _HostClockDatetime  # type: ignore[misc]  # the library has no clock parameter


@contextmanager
def _engine_now(now: datetime) -> Iterator[None]:
    token = _NOW.set(now)
    try:
        yield
    finally:
        _NOW.reset(token)


# -- diagram text is data: one sandboxed evaluator for every expression and script ----------------------

MAX_INSTANCES = 1_000  # children a multi-instance task may create from its cardinality expression


def meets_ratio(yes: int, total: int, ratio: str | list[int] | tuple[int, int]) -> bool:
    """At least `ratio` of `total` voted yes, e.g. "2/3" (the rule is data: the committee sets it)."""
    numerator, denominator = (int(p) for p in (ratio.split("/") if isinstance(ratio, str) else ratio))
    return total > 0 and yes * denominator >= numerator * total


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Every evaluation the library makes goes through here — `script_engine.evaluate/execute` and the direct
    `script_engine.environment.evaluate` calls (process completion conditions, correlation retrieval) — and
    so through our sandbox: an allowlisted AST walked by simpleeval, never the library's eval/exec."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__({})
        self._sandbox = sandbox

    def evaluate(self, expression: str, context: Any, external_context: Any = None) -> Any:
        names = {**external_context, **context} if external_context else context
        return self._sandbox.evaluate(expression, names)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        self._sandbox.execute(script, context, external_context)
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # ReviewScriptEngine.call_service handles service tasks


class ReviewScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Expressions and scripts run in the sandbox (decision 0016) with our helpers, nothing else."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        def working_days_later(days: int) -> str:
            """A timeDate for "N working days from now" (the end of the N-th working day, Beijing time)."""
            now = _NOW.get() or datetime.now(UTC)
            return calendar.add_working_days(now, int(days)).isoformat()

        helpers = {"working_days_later": working_days_later, "meets_ratio": meets_ratio}
        super().__init__(environment=_SandboxEnvironment(Sandbox(helpers)))

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        value = super().evaluate(task, expression, external_context)
        spec = task.task_spec
        if isinstance(spec, MultiInstanceTask) and expression == spec.cardinality:
            if not isinstance(value, int) or not 0 <= value <= MAX_INSTANCES:
                raise ExpressionError(f"多实例数量必须是 0 到 {MAX_INSTANCES} 之间的整数，实际为 {value!r}")
        return value

    def call_service(self, task: Any, operation_name: str, operation_params: Any) -> str:
        # Service tasks do no I/O inside the engine: the call becomes an outbound event (the host's outbox).
        params = {name: spec["value"] for name, spec in operation_params.items()}
        task.workflow.top_workflow.bpmn_events.append(
            BpmnEvent(MessageEventDefinition(f"service:{operation_name}"), params)
        )
        return json.dumps({"requested": True})


# SpiffWorkflow logs every task state change at INFO (loggers "spiff.task" and "spiff.workflow"): about ten
# lines per completion, which the host's history table already records. Its warnings and errors still pass;
# to watch the engine step by step, lower this level.
logging.getLogger("spiff").setLevel(logging.WARNING)


# -- serialization: state without the spec ------------------------------------------------------------

_LOADING: contextvars.ContextVar[ProcessDefinition | None] = contextvars.ContextVar("zc_loading_spec", default=None)


class _TaskId(UUID):
    """A task id that hashes and prints without recomputing: the library resolves every parent and child
    through a dict keyed by ids, hundreds of times per step, and prints every id on each save. Equal to
    (and hashing like) the plain UUID of the same value, so the ids the library makes itself (uuid4) mix
    freely with these."""

    __slots__ = ("_hash", "_text")

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return self._text

    def __reduce__(self) -> Any:  # a copy is a plain UUID
        return (UUID, (self._text,))


_UNKNOWN_SAFETY = SafeUUID.unknown  # read once: an enum member read through its class costs ~0.2 µs on 3.11


def _task_id(text: str) -> _TaskId:
    value = int(text.replace("-", ""), 16)
    task_id = object.__new__(_TaskId)
    set_slot = object.__setattr__  # UUID forbids setattr; this is what its own __init__ does
    set_slot(task_id, "int", value)
    set_slot(task_id, "is_safe", _UNKNOWN_SAFETY)
    set_slot(task_id, "_hash", hash(value))
    set_slot(task_id, "_text", str(UUID(int=value)) if len(text) != 36 else text.lower())
    return task_id


class _InterningTaskConverter(TaskConverter):  # type: ignore[misc]
    """The library's task converter (same dictionary format, same data restoration), except that a task's
    parent and children links are the very id objects the tasks dict is keyed by (`ids`, one per task per
    load): a lookup then matches by identity instead of calling UUID.__eq__."""

    def from_dict(self, dct: dict[str, Any], workflow: Any, ids: dict[str, _TaskId] | None = None) -> Task:
        ids = ids if ids is not None else {}

        def interned(text: str) -> _TaskId:
            task_id = ids.get(text)
            if task_id is None:
                task_id = ids[text] = _task_id(text)
            return task_id

        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=interned(dct["id"]))
        task._parent = interned(dct["parent"]) if dct["parent"] is not None else None
        task._children = [interned(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        internal = dct["internal_data"]
        task.internal_data = self.registry.restore(internal) if internal else {}
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        parent = workflow.tasks.get(task._parent) if delta else None  # parents are saved before their children
        if parent is not None:
            # what DeepMerge.merge({}, parent.data) gives: each value, mutable ones shallow-copied
            data = {k: copy.copy(v) if isinstance(v, dict | list | set) else v for k, v in parent.data.items()}
            if updates := delta.get("updates"):
                data.update(self.registry.restore(updates))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


def _restore_tasks(converter: Any, tasks: dict[str, Any], workflow: Any) -> None:
    # each restored Task registers itself in workflow.tasks under its (interned) id
    workflow.tasks = {}
    ids = {text: _task_id(text) for text in tasks}
    registry = converter.registry
    task_from_dict = registry.convert_from_dict["Task"].args[0]  # _InterningTaskConverter.from_dict
    for task in tasks.values():
        if task.get("typename") == "Task":  # straight to it: the registry's dispatch would copy each dict first
            task_from_dict(task, workflow, ids)
        else:
            registry.restore(task, workflow=workflow, ids=ids)


class _InterningSubWorkflowConverter(BpmnSubWorkflowConverter):  # type: ignore[misc]
    def from_dict(self, dct: dict[str, Any], task: Task, top_workflow: BpmnWorkflow) -> Any:
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        _restore_tasks(self, dct["tasks"], subprocess)
        subprocess.task_tree = subprocess.tasks.get(_task_id(dct["root"]))
        self.set_default_attributes(subprocess, dct)
        return subprocess


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Stores an instance without its spec; loads it with the already parsed spec of its definition."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        definition = _LOADING.get()
        if definition is None:
            raise RuntimeError("load an instance through SpiffEngine, which supplies its definition")
        spec, subprocess_specs = definition.spec
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        _restore_tasks(self, dct["tasks"], workflow)
        workflow.task_tree = workflow.tasks.get(_task_id(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpecFreeWorkflowConverter
    config[BpmnSubWorkflow] = _InterningSubWorkflowConverter
    config[Task] = _InterningTaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


# -- the engine ----------------------------------------------------------------------------------------


class InvalidProcessError(DomainError):
    code = "review.invalid_process"
    status_hint = 422

    def __init__(
        self, message: str, *, field: str | None = "source", element_id: str | None = None, line: int | None = None
    ):
        super().__init__(message, field=field)
        self.element_id, self.line = element_id, line


PARSED_CACHE_CHARS = 32 * 1024 * 1024  # characters of BPMN and DMN text whose parsed specs stay in memory


def _wire_loops(process: Any) -> None:
    """Run-time wiring the parser leaves out (issue 18, decision 0012): a multi-instance or standard-loop task
    learns that a child finished through its child spec's `completed_event`, which the library connects only in
    `create_child` (when the children are made) or when it restores a spec from a dict. A spec parsed in another
    process (a replica, a restart, a redeploy) and given a loaded instance would never merge the children: the
    votes complete and the step stays open for ever. Connected here, once per parsed spec, as the library's own
    spec converter does (`is_connected` keeps `create_child` from connecting it twice)."""
    for task_spec in process.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = process.task_specs[task_spec.task_spec]
            if not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def content_hash(source: str, decisions: Sequence[str] = ()) -> str:
    digest = hashlib.sha256(source.encode("utf-8"))
    for table in decisions:
        digest.update(b"\0" + table.encode("utf-8"))
    return digest.hexdigest()


def _properties(task_spec: Any) -> dict[str, str]:
    props = getattr(task_spec, "extensions", {}).get("properties", {})
    return {str(k): str(v) for k, v in props.items()}


class SpiffEngine:
    """WorkflowEngine on SpiffWorkflow. Thread-safe for distinct instances; holds only caches."""

    def __init__(
        self, calendar: BusinessCalendar, *, compact_depth: int = 12, parsed_cache_chars: int = PARSED_CACHE_CHARS
    ) -> None:
        self._calendar = calendar
        self._script_engine = ReviewScriptEngine(calendar)
        self._serializer = _serializer()
        self._encode_default = self._serializer._encoder_cls().default  # the library's json encoder hook
        # parsed specs by (process key, content hash), bounded by the size of their sources (a parsed spec
        # holds several times its text): designers may deploy any number of versions, and validation parses
        # each upload. Validation runs in threads, hence the lock.
        self._parsed: LRUCache[tuple[str, str], ProcessDefinition] = LRUCache(
            maxsize=parsed_cache_chars, getsizeof=lambda definition: definition.text_size
        )
        self._parsed_lock = threading.Lock()
        self._compact_depth = compact_depth  # compact once the active point is this deep

    # definitions

    def parse(self, process_key: str, source: str, decisions: Sequence[str] = ()) -> ProcessDefinition:
        """`decisions`: the DMN tables its business rule tasks call, deployed with it."""
        digest = content_hash(source, decisions)
        with self._parsed_lock:
            cached = self._parsed.get((process_key, digest))
        if cached is not None:
            return cached
        trees = []
        for text in (source, *decisions):
            tree, problems = hardened_parse(text)
            if tree is None or problems:  # the library only ever sees a tree our hardened parser built
                raise InvalidProcessError(problems[0].message, line=problems[0].line)
            trees.append(tree)
        parser = SpiffBpmnParser(validator=VALIDATOR)
        try:
            parser.add_bpmn_xml(trees[0])
            for table in trees[1:]:
                parser.add_dmn_xml(table)
            spec = parser.get_spec(process_key)
            subprocess_specs = parser.get_subprocess_specs(process_key)
            for process in (spec, *subprocess_specs.values()):
                _wire_loops(process)
        except ValidationException as exc:
            line = exc.line_number if isinstance(exc.line_number, int) else None
            where = f"（第 {line} 行）" if line else ""
            raise InvalidProcessError(
                f"流程校验失败{where}：{exc}", element_id=getattr(exc, "id", None) or None, line=line
            ) from exc
        except (etree.XMLSyntaxError, KeyError, SpiffWorkflowException) as exc:
            raise InvalidProcessError(f"流程校验失败：{exc}", field="source") from exc
        user_tasks = tuple(sorted(name for name, ts in spec.task_specs.items() if getattr(ts, "manual", False)))
        messages = tuple(sorted(set(_message_names(spec))))
        definition = ProcessDefinition(
            process_key=process_key,
            content_hash=digest,
            source=source,
            decisions=tuple(decisions),
            spec=(spec, subprocess_specs),
            name=spec.description or process_key,
            user_tasks=user_tasks,
            messages=messages,
        )
        if definition.text_size <= self._parsed.maxsize:
            with self._parsed_lock:
                self._parsed[(process_key, digest)] = definition
        return definition

    # transitions

    def start(self, definition: ProcessDefinition, data: Mapping[str, Any], *, now: datetime) -> EngineState:
        spec, subprocess_specs = definition.spec
        with _engine_now(now):
            workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
            workflow.task_tree.data.update(dict(data))
            return self._step(workflow, lambda: None)

    def complete_task(
        self,
        definition: ProcessDefinition,
        state: dict[str, Any],
        task_id: str,
        data: Mapping[str, Any],
        *,
        now: datetime,
    ) -> EngineState:
        with _engine_now(now):
            workflow = self._load(definition, state)
            task = self._ready_user_task(workflow, task_id)

            def act() -> None:
                task.set_data(**dict(data))  # not add_data_from_form: it corrupts lists (P1)
                # a multi-instance vote collects each decision under its own name (`decision` exists already)
                variable = _properties(task.task_spec).get("decisionVariable")
                if variable and "decision" in data:
                    task.set_data(**{variable: data["decision"]})
                task.run()

            return self._step(workflow, act)

    def deliver_message(
        self,
        definition: ProcessDefinition,
        state: dict[str, Any],
        name: str,
        payload: Mapping[str, Any],
        *,
        now: datetime,
    ) -> EngineState:
        with _engine_now(now):
            workflow = self._load(definition, state)

            def act() -> None:
                try:
                    workflow.send_event(BpmnEvent(MessageEventDefinition(name), dict(payload), correlations={}))
                except WorkflowException as exc:
                    raise NotWaitingError(name) from exc

            return self._step(workflow, act)

    def fire_timers(self, definition: ProcessDefinition, state: dict[str, Any], *, now: datetime) -> EngineState:
        with _engine_now(now):
            workflow = self._load(definition, state)
            return self._step(workflow, workflow.refresh_timers)

    def retry(self, definition: ProcessDefinition, state: dict[str, Any], *, now: datetime) -> EngineState:
        """Run errored tasks again (after the cause was fixed, e.g. a calendar year loaded)."""
        with _engine_now(now):
            workflow = self._load(definition, state)

            def act() -> None:
                # the library has no public retry (notes §2.3): a failed catch event (e.g. its timer
                # expression) is evaluated again and waits; any other task runs again
                for task in workflow.get_tasks(state=TaskState.ERROR):
                    if isinstance(task.task_spec, CatchingEvent):
                        task._set_state(TaskState.WAITING)
                        task.task_spec._update(task)
                    else:
                        task._set_state(TaskState.READY)
                # a step that failed while being reached (before any state change) stays FUTURE under a
                # completed parent: reach it again
                for task in workflow.get_tasks(state=TaskState.FUTURE):
                    if task.parent is not None and task.parent.has_state(TaskState.COMPLETED):
                        task.task_spec._update(task)
                # a loop whose finished children were never merged (they completed in a process whose spec lacked
                # the wiring, before _wire_loops): merge them now, which closes the step or makes the next child
                for task in [t for t in _all_tasks(workflow) if t.state == TaskState.STARTED]:
                    if isinstance(task.task_spec, LoopTask):
                        merged = set(task.internal_data.get("merged", []))
                        for child in list(task.children):
                            if child.has_state(TaskState.COMPLETED) and str(child.id) not in merged:
                                task.task_spec.merge_child(workflow, child)

            return self._step(workflow, act)

    # process design

    def validate(
        self, process_key: str, source: str, decisions: Sequence[str], *, trusted: bool
    ) -> list[DiagramProblem]:
        """Our rules on the XML first (hardened parse, lanes, forms, timers, messages), then the library's XSD
        and semantic checks, then every expression and script the parsed specs hold, by the sandbox's
        allowlist (scripts only in trusted diagrams). Nothing is executed."""
        problems = lint_all(source, decisions)
        if problems:
            return problems
        try:
            definition = self.parse(process_key, source, decisions)
        except InvalidProcessError as exc:
            return [DiagramProblem(exc.element_id, exc.line, exc.message)]
        return expression_problems(definition, trusted=trusted)

    def diff(self, old: ProcessDefinition, new: ProcessDefinition) -> dict[str, Any]:
        spec_diff = SpecDiff(self._serializer.registry, old.spec[0], new.spec[0])

        def named(spec: Any) -> dict[str, str]:
            return {"id": spec.bpmn_id or spec.name, "name": spec.bpmn_name or ""}

        return {
            "added": [named(s) for s in spec_diff.added if s.bpmn_id],
            "removed": [named(s) for s in spec_diff.removed if s.bpmn_id],
            "changed": [
                {**named(s), "attributes": sorted(changes)} for s, changes in spec_diff.changed.items() if s.bpmn_id
            ],
        }

    def plan_migration(self, old: ProcessDefinition, state: dict[str, Any], new: ProcessDefinition) -> MigrationPlan:
        workflow = self._load(old, state)
        return self._plan(workflow, new)[0]

    def migrate(
        self, old: ProcessDefinition, state: dict[str, Any], new: ProcessDefinition, *, now: datetime
    ) -> EngineState:
        with _engine_now(now):
            workflow = self._load(old, state)
            plan, top_diff = self._plan(workflow, new)
            if not plan.safe:
                raise EngineError("；".join(plan.reasons))
            spec, subprocess_specs = new.spec

            def act() -> None:
                # READY tasks are recomputed under the new spec (same task, same id); waiting timers keep
                # their due time (the library's default would restart them)
                migrate_workflow(top_diff, workflow, spec, reset_mask=TaskState.READY)
                workflow.subprocess_specs = subprocess_specs
                # what a waiting task predicted still names the old version's steps: predict again
                for task in list(workflow.get_tasks(state=TaskState.WAITING, skip_subprocesses=True)):
                    task._drop_children(force=True)
                    task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.WAITING)

            return self._step(workflow, act)

    def _plan(self, workflow: BpmnWorkflow, new: ProcessDefinition) -> tuple[MigrationPlan, Any]:
        spec, subprocess_specs = new.spec
        reasons: list[str] = []
        try:
            top_diff, sub_diffs = diff_workflow(self._serializer.registry, workflow, spec, subprocess_specs)
        except KeyError as exc:  # a task whose spec the diff could not align
            return MigrationPlan(False, (f"无法对齐流程元素 {exc}",), (), ()), None
        # where the instance stands now (predicted steps are predicted again under the new version)
        current = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        unfinished = [t for t in top_diff.removed if t.has_state(current)]
        for task in unfinished:
            if task.task_spec.bpmn_id:
                reasons.append(f"当前环节“{task.task_spec.bpmn_name or task.task_spec.bpmn_id}”在新版本中已删除")
        if any(d is None for d in sub_diffs.values()):
            reasons.append("子流程在新版本中已删除")
        if workflow.get_tasks(state=TaskState.ERROR):
            reasons.append("流程实例处于出错状态，请先重试或终止")
        ready = list(workflow.get_tasks(state=TaskState.READY, manual=True))
        timers = list(workflow.event_manager.tasks.values())
        plan = MigrationPlan(
            safe=not reasons,
            reasons=tuple(reasons),
            reset_tasks=tuple(t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in ready),
            kept_timers=tuple(t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in timers),
        )
        return plan, top_diff

    # helpers

    def _load(self, definition: ProcessDefinition, state: dict[str, Any]) -> BpmnWorkflow:
        if state.get("format") != STATE_FORMAT:
            raise EngineError(f"unknown state format {state.get('format')!r}")
        token = _LOADING.set(definition)
        try:
            # what deserialize_json does, with orjson parsing the text (several times faster than json)
            dct = json_loads(state["workflow"])
            # older library versions are migrated, except those before 1.2: that migration eval()s timer text
            if dct.get(self._serializer.VERSION_KEY) not in _MIGRATABLE_VERSIONS:
                raise EngineError(f"unsupported state version {dct.get(self._serializer.VERSION_KEY)!r}")
            self._serializer.migrate(dct)
            workflow = self._serializer.from_dict(dct)
        finally:
            _LOADING.reset(token)
        workflow.script_engine = self._script_engine  # not serialized; the default one has full builtins (P14)
        return workflow

    def _dump(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        # JSON text, not a nested object: JSONB reorders keys, and the library restores task data (stored
        # as deltas) in the order the tasks were written, parents first. This is serialize_json with
        # orjson writing the text (zc_db.json_dumps): the library's encoder hook still converts what it
        # knows (datetimes are passed to it too), sets and callables. The one difference: orjson writes a
        # UUID as plain text, where the library would tag it — task data are JSON values (scripts cannot
        # import uuid), so none reaches it.
        serializer = self._serializer
        serializer.registry._encoder_mode = True  # as serialize_json: converters emit encoder-ready dicts
        try:
            dct = serializer.to_dict(workflow)
            dct[serializer.VERSION_KEY] = serializer.VERSION
            text = json_dumps(dct, default=self._encode_default)
        finally:
            serializer.registry._encoder_mode = False
        return {"format": STATE_FORMAT, "workflow": text}

    def _ready_user_task(self, workflow: BpmnWorkflow, task_id: str) -> Task:
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException) as exc:
            raise NotWaitingError(task_id) from exc
        if not task.task_spec.manual or task.state != TaskState.READY:
            raise NotWaitingError(task_id)
        return task

    def _step(self, workflow: BpmnWorkflow, act: Callable[[], None]) -> EngineState:
        error: str | None = None
        done_before = {t.id for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED}
        try:
            act()
            workflow.do_engine_steps()  # ends with refresh_timers()
            # a timer that came due during the steps became READY only in that closing refresh (P12)
            if any(t.state == TaskState.READY and not t.task_spec.manual for t in _all_tasks(workflow)):
                workflow.do_engine_steps()
        except NotWaitingError:
            raise
        except Exception as exc:  # a process fault (script, condition, timer, helper): recorded on the instance
            cause = _domain_cause(exc)  # e.g. a calendar year not loaded yet, raised inside an expression
            error = cause.message if cause else f"{type(exc).__name__}: {exc}"
        passed = _passed(workflow, done_before)  # before compaction drops them
        if error is None:
            _compact(workflow, self._compact_depth)
        return self._describe(workflow, error, passed)

    def _describe(self, workflow: BpmnWorkflow, error: str | None, passed: tuple[str, ...] = ()) -> EngineState:
        if error is None:
            errored = next((t for t in _all_tasks(workflow) if t.state == TaskState.ERROR), None)
            if errored is not None:
                error = f"任务 {errored.task_spec.bpmn_name or errored.task_spec.name} 出错"
        status: InstanceStatus = "error" if error else ("completed" if workflow.completed else "running")
        outbound = tuple(
            OutboundEvent(name=event.event_definition.name, payload=dict(event.payload or {}))
            for event in workflow.get_events()
        )
        latest = workflow.last_task or workflow.task_tree
        data = dict(latest.data) if latest is not None else {}
        ready = [t for t in _all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual]
        if len(ready) > 1:  # several at once (parallel branches, votes): in the tree's order, as the library lists them
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        open_tasks = tuple(self._open_task(t, data) for t in ready)
        waiting: list[WaitingEvent] = []
        for task in workflow.event_manager.tasks.values():
            spec = task.task_spec
            definition = spec.event_definition
            # an event-based gateway waits on several definitions at once (MultipleEventDefinition): the i-th is
            # its i-th outgoing event's, taken over by the gateway when they were connected (library's
            # EventBasedGateway.connect)
            items = getattr(definition, "event_definitions", None) or [definition]
            gateway = isinstance(spec, EventBasedGateway) and len(spec.outputs) == len(items)
            for i, item in enumerate(items):
                name = item.name or spec.bpmn_name or spec.bpmn_id
                event_id = spec.outputs[i].bpmn_id if gateway else spec.bpmn_id
                if isinstance(item, TimerEventDefinition):
                    value = task._get_internal_data("event_value")
                    due = value.get("next") if isinstance(value, dict) else value  # a cycle keeps its next run
                    due_at = _parse_due(due) if due else None
                    waiting.append(WaitingEvent("timer", name, due_at, element_id=event_id, token_at=spec.bpmn_id))
                elif isinstance(item, MessageEventDefinition):
                    waiting.append(WaitingEvent("message", name, element_id=event_id, token_at=spec.bpmn_id))
        return EngineState(
            state=self._dump(workflow),
            status=status,
            open_tasks=open_tasks,
            waiting=tuple(waiting),
            outbound=outbound,
            data=data,
            error=error,
            tree_size=len(workflow.tasks),
            passed=passed,
        )

    @staticmethod
    def _open_task(task: Task, instance_data: Mapping[str, Any]) -> OpenTask:
        spec = task.task_spec
        props = _properties(spec)
        scope_type = scope_id = None
        if "scope" in props:
            scope_type, _, variable = props["scope"].partition(":")
            value = task.data.get(variable, instance_data.get(variable))
            scope_id = str(value) if value is not None else None
        due = props.get("dueIn")
        return OpenTask(
            task_id=str(task.id),
            name=spec.bpmn_id,
            title=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            form_key=props.get("formKey"),
            decisions=tuple(d.strip() for d in props.get("decisions", "").split(",") if d.strip()),
            stage=props.get("stage"),
            scope_type=scope_type,
            scope_id=scope_id,
            due_in_working_days=int(due) if due and due.isdigit() else None,
            candidate_user=str(task.data[props["assignee"]]) if task.data.get(props.get("assignee", "")) else None,
        )


# -- every piece of text the engine evaluates, from the parsed specs ------------------------------------------


@dataclass(frozen=True)
class ExpressionSite:
    element_id: str | None  # the spec's BPMN id (the document's element is found by the text)
    text: str  # what the engine evaluates
    shown: str  # what the document holds (a DMN cell is evaluated joined with its input expression)
    script: bool
    what: str  # the kind of site, in Chinese


# The library's DMN engine replaces "?" outside quotes by the input's value (dmn/engine/DMNEngine.py).
_DMN_PLACEHOLDER = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")


def expression_sites(definition: ProcessDefinition) -> Iterator[ExpressionSite]:
    """Every site SpiffWorkflow 3.2 evaluates (decision 0016 lists them with the library code that does)."""
    spec, subprocess_specs = definition.spec
    for process in (spec, *subprocess_specs.values()):
        if isinstance(text := getattr(process, "completion_condition", None), str):
            yield ExpressionSite(process.name, text, text, False, "流程完成条件")
        for task_spec in process.task_specs.values():
            yield from _task_sites(task_spec)


def _task_sites(task_spec: Any) -> Iterator[ExpressionSite]:
    element = getattr(task_spec, "bpmn_id", None)

    def site(text: Any, what: str, *, script: bool = False, shown: str | None = None) -> Iterator[ExpressionSite]:
        if isinstance(text, str) and text.strip():
            yield ExpressionSite(element, text, shown if shown is not None else text, script, what)

    yield from site(getattr(task_spec, "prescript", None), "前置脚本", script=True)
    yield from site(getattr(task_spec, "postscript", None), "后置脚本", script=True)
    yield from site(getattr(task_spec, "script", None), "脚本任务", script=True)
    for condition, _target in getattr(task_spec, "cond_task_specs", ()):
        if condition is not None:
            yield from site(condition.args[0], "流转条件")
    if isinstance(task_spec, LoopTask):
        yield from site(getattr(task_spec, "cardinality", None), "多实例数量")
        yield from site(getattr(task_spec, "condition", None), "循环或完成条件")
    for parameter in (getattr(task_spec, "operation_params", None) or {}).values():
        yield from site(parameter.get("value"), "服务任务参数")
    event = getattr(task_spec, "event_definition", None)
    for definition in getattr(event, "event_definitions", None) or ([event] if event is not None else []):
        yield from site(getattr(definition, "expression", None), "事件表达式（定时器、消息内容、条件）")
        for prop in (
            *getattr(definition, "correlation_properties", ()),
            *getattr(definition, "process_correlations", ()),
        ):
            yield from site(prop.retrieval_expression, "消息关联表达式")
    engine = getattr(task_spec, "dmnEngine", None)
    if engine is not None:
        table = engine.decision_table
        for column in table.inputs:
            yield from site(column.expression, "决策表输入表达式")
        for rule in table.rules:
            for entry in rule.inputEntries:
                for cell in entry.lhs:
                    if isinstance(cell, str) and cell.strip():
                        for text in _dmn_cell_texts(entry.input.expression or "", cell):
                            yield from site(text, "决策表输入条件", shown=cell)
            for output in rule.outputEntries:
                yield from site(output.text, "决策表输出")


def _dmn_cell_texts(input_expression: str, cell: str) -> list[str]:
    """What the DMN engine evaluates for one input cell: `? < 3` with `?` as the input's value, `"x"` as
    `(input) == ("x")`, and `>= 5` appended to the input expression."""
    replaced = _DMN_PLACEHOLDER.sub("dmninputexpr", cell)
    if "dmninputexpr" in replaced:
        return [replaced]
    try:
        ast.parse(cell)
    except SyntaxError:
        return [input_expression + cell]
    return [f"({input_expression}) == ({cell})"]


def expression_problems(definition: ProcessDefinition, *, trusted: bool) -> list[DiagramProblem]:
    """Every site checked by the sandbox, each refusal named by element and line of the document."""
    roots: list[etree._Element] | None = None  # the documents, parsed only once a problem needs a line
    problems: list[DiagramProblem] = []
    seen: set[tuple[str | None, str, bool]] = set()
    for site in expression_sites(definition):
        if (site.element_id, site.text, site.script) in seen:
            continue
        seen.add((site.element_id, site.text, site.script))
        refusals = check(site.text, script=site.script)
        if not refusals and (trusted or not site.script):
            continue
        if roots is None:
            parsed = (hardened_parse(text)[0] for text in (definition.source, *definition.decisions))
            roots = [root for root in parsed if root is not None]
        element_id, line, leading = _locate(roots, site)  # only for a problem: it scans the document
        if site.script and not trusted:
            problems.append(DiagramProblem(element_id, line, f"{site.what}需要管理员将流程标记为可信后才能部署"))
        for refusal in refusals:
            at = line + leading + (refusal.line - 1 if refusal.line and site.script else 0) if line else None
            problems.append(DiagramProblem(element_id, at, f"{site.what}不被允许：{refusal.message}"))
    return problems


def _locate(roots: Sequence[etree._Element], site: ExpressionSite) -> tuple[str | None, int | None, int]:
    """The element holding the text (its nearest ancestor with an id), its line, and the blank lines the text
    starts with. The text is looked for in element text and attribute values."""
    wanted = site.shown.strip()
    fallback: tuple[str | None, int | None, int] = (site.element_id, None, 0)
    for root in roots:
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            raw = node.text or ""
            if raw.strip() == wanted:
                found = (owner_id(node), node.sourceline, raw[: len(raw) - len(raw.lstrip())].count("\n"))
            elif any(value.strip() == wanted for value in node.attrib.values()):
                found = (owner_id(node), node.sourceline, 0)
            else:
                continue
            if site.element_id is None or found[0] == site.element_id:
                return found
            if _inside(node, site.element_id):  # e.g. a service task's parameter (which has an id of its own)
                return (site.element_id, found[1], found[2])
            fallback = found if fallback[1] is None else fallback
    return fallback


def _inside(node: etree._Element, element_id: str) -> bool:
    return any(ancestor.get("id") == element_id for ancestor in node.iterancestors())


def _all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    """Every task of an instance, in no particular order: each sits in the top workflow's dict or in one of
    its subprocesses' (kept flat on the top workflow). Far cheaper than walking the tree."""
    return chain(workflow.tasks.values(), *(sub.tasks.values() for sub in workflow.subprocesses.values()))


def _passed(workflow: BpmnWorkflow, done_before: set[Any]) -> tuple[str, ...]:
    """The BPMN elements whose tasks completed since `done_before` was taken, in the order they completed
    (the library's own tasks, such as a process's root or an end join, have no BPMN id)."""
    done = [
        t
        for t in _all_tasks(workflow)
        if t.state == TaskState.COMPLETED and t.id not in done_before and t.task_spec.bpmn_id
    ]
    done.sort(key=lambda t: t.last_state_change)  # stable: ties keep the dicts' order, parents first
    return tuple(dict.fromkeys(t.task_spec.bpmn_id for t in done))


def _domain_cause(exc: BaseException) -> DomainError | None:
    seen: BaseException | None = exc
    for _ in range(10):  # the library wraps helper errors (WorkflowTaskException.exception, __cause__)
        if seen is None:
            return None
        if isinstance(seen, DomainError):
            return seen
        seen = getattr(seen, "exception", None) or seen.__cause__ or seen.__context__
    return None


def _parse_due(value: str) -> datetime:
    due = _datetime.fromisoformat(value)  # spiff stores due times as ISO text in UTC
    return due.astimezone(UTC) if due.tzinfo else due.replace(tzinfo=UTC)


def _message_names(spec: Any) -> Iterator[str]:
    for task_spec in spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        name = getattr(definition, "name", None)
        if name and type(definition).__name__ == "MessageEventDefinition":
            yield name


def _compact(workflow: BpmnWorkflow, min_depth: int) -> None:
    """Cut finished history out of the task tree (the host's history table keeps it).

    Every unfinished task hangs below one task (their deepest common ancestor); nothing below it refers
    to what lies above it except through its parent link. Once that point is `min_depth` deep, every task
    that is neither below it nor on the root → start chain is dropped, and it becomes a child of the
    start task. Its data are complete in memory, so nothing is lost; the tree's depth stays bounded.
    """
    if workflow.completed:
        return
    unfinished = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return
    ancestors = _path_to_root(unfinished[0])
    if len(ancestors) - 1 < min_depth:  # the anchor lies on this path, so it is not deep enough either
        return
    common = set(ancestors)
    for task in unfinished[1:]:
        common &= set(_path_to_root(task))
    anchor = next(t for t in ancestors if t in common)  # the deepest common ancestor
    root = workflow.task_tree
    start = root.children[0] if root.children else None
    if start is None or anchor in (root, start) or anchor.parent is start:
        return
    if len(_path_to_root(anchor)) - 1 < min_depth:
        return
    keep = {root.id, start.id}
    keep.update(t.id for t in anchor)  # Task iterates its subtree
    for task_id in [tid for tid in workflow.tasks if tid not in keep]:
        workflow.tasks.pop(task_id)
        workflow.subprocesses.pop(task_id, None)
    start._children = [anchor.id]
    anchor._parent = start.id
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = anchor


def _path_to_root(task: Task) -> list[Task]:
    path = []
    node: Task | None = task
    while node is not None:
        path.append(node)
        node = node.parent
    return path
