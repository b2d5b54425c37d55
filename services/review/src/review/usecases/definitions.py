"""Use cases: process definitions — validate, deploy (a new version only for a changed text), read, diff, and
migrate running instances to a newer version."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from review.domain.errors import DomainError, InstanceStateError, NotFoundError
from review.usecases.host import WorkflowHost
from review.usecases.ports import DiagramProblem, InstanceStore, ProcessDefinition, Row
from review.usecases.transitions import Actor, Step, TransitionWriter
from zc_auth import Principal, Role

log = logging.getLogger(__name__)

VALIDATION_SECONDS = 10.0  # one diagram's validation (2 MB at most) in its thread


class InvalidDiagramError(DomainError):
    code = "review.invalid_diagram"
    status_hint = 422


class Definitions:
    def __init__(self, host: WorkflowHost, transitions: TransitionWriter) -> None:
        self._host = host
        self._transitions = transitions

    async def deploy(
        self,
        process_key: str,
        source: str,
        *,
        deployed_by: str,
        decisions: Sequence[str] = (),
        trusted: bool = False,
    ) -> Row:
        """Validate; store a new version only when the text changed (same text = same version)."""
        problems = await self._problems(process_key, source, decisions, trusted=trusted)
        if problems:
            first = problems[0]
            where = f"（元素 {first.element_id}，第 {first.line} 行）" if first.element_id or first.line else ""
            more = f"，共 {len(problems)} 处问题" if len(problems) > 1 else ""
            raise InvalidDiagramError(f"流程校验未通过{where}：{first.message}{more}", field="source")
        parsed = self._host.engine.parse(process_key, source, decisions)
        for _attempt in range(3):  # another replica deploying the same text at once wins; we read its row
            try:
                return await self._insert_definition(process_key, source, parsed, deployed_by, trusted)
            except IntegrityError:
                continue
        raise InstanceStateError("流程部署冲突，请重试")

    async def _insert_definition(
        self, process_key: str, source: str, parsed: ProcessDefinition, deployed_by: str, trusted: bool
    ) -> Row:
        async with self._host.sessions() as s, s.begin():
            store = self._host.store(s)
            existing = await store.definition_by_hash(process_key, parsed.content_hash)
            if existing is not None:
                return existing
            latest = await store.latest_definition(process_key)
            row = {
                "id": uuid.uuid4(),
                "process_key": process_key,
                "version": (latest["version"] + 1) if latest else 1,
                "content_hash": parsed.content_hash,
                "name": parsed.name,
                "source": source,
                "decisions": list(parsed.decisions),
                "deployed_by": deployed_by,
                "trusted": trusted,
                "deployed_at": self._host.now(),
            }
            await store.insert_definition(row)
        log.info("process deployed", extra={"process_key": process_key, "version": row["version"]})
        return row

    async def deploy_directory(self, root: Path, *, deployed_by: str = "system:startup") -> list[Row]:
        """`bpmn/<key>/<key>.bpmn` for every key found (the repository's diagrams at start-up)."""
        diagrams = await asyncio.to_thread(read_diagrams, root)
        return [
            # the repository's diagrams are reviewed like code: trusted (their script tasks may run)
            await self.deploy(key, text, deployed_by=deployed_by, decisions=tables, trusted=True)
            for key, text, tables in diagrams
        ]

    async def deployed(self) -> list[Row]:
        async with self._host.sessions() as s:
            return await self._host.store(s).definitions()

    async def _problems(
        self, process_key: str, source: str, decisions: Sequence[str], *, trusted: bool
    ) -> list[DiagramProblem]:
        """Validation parses and checks up to 2 MB of XML: it runs in a thread so the event loop keeps serving,
        and it has a time limit (the thread cannot be stopped, but the caller gets an answer and the diagram is
        not deployed)."""
        validate = functools.partial(self._host.engine.validate, process_key, source, decisions, trusted=trusted)
        try:
            return await asyncio.wait_for(asyncio.to_thread(validate), VALIDATION_SECONDS)
        except TimeoutError:
            raise InvalidDiagramError(
                f"流程文件过于复杂，未能在 {VALIDATION_SECONDS:g} 秒内完成校验", field="source"
            ) from None

    async def validate(
        self, process_key: str, source: str, decisions: Sequence[str], *, trusted: bool
    ) -> dict[str, Any]:
        problems = await self._problems(process_key, source, decisions, trusted=trusted)
        summary: dict[str, Any] = {}
        if not problems:
            parsed = self._host.engine.parse(process_key, source, decisions)
            summary = {"name": parsed.name, "user_tasks": list(parsed.user_tasks)}
        return {"valid": not problems, "problems": [p.as_dict() for p in problems], **summary}

    async def _version(self, store: InstanceStore, process_key: str, version: int) -> Row:
        row = await store.definition_version(process_key, version)
        if row is None:
            raise NotFoundError(f"流程 {process_key} 没有第 {version} 版")
        return row

    async def source(self, process_key: str, version: int) -> Row:
        async with self._host.sessions() as s:
            return await self._version(self._host.store(s), process_key, version)

    async def diff(self, process_key: str, old: int, new: int) -> dict[str, Any]:
        async with self._host.sessions() as s:
            store = self._host.store(s)
            a, b = await self._version(store, process_key, old), await self._version(store, process_key, new)
            _, before = await self._host.definition(store, a["id"])
            _, after = await self._host.definition(store, b["id"])
        return {"process_key": process_key, "from": old, "to": new, **self._host.engine.diff(before, after)}

    async def migrate(
        self, principal: Principal, process_key: str, old: int, new: int, *, dry_run: bool, reason: str
    ) -> dict[str, Any]:
        """Move unfinished instances from one version to a newer one. A dry run only reports; a real run
        moves every safe instance (with its history record, in one transaction) and leaves the others."""
        if new <= old:
            raise InstanceStateError("只能迁移到更新的版本", field="to_version")
        async with self._host.sessions() as s, s.begin():
            store = self._host.store(s)
            source, target = await self._version(store, process_key, old), await self._version(store, process_key, new)
            _, before = await self._host.definition(store, source["id"])
            new_version, after = await self._host.definition(store, target["id"])
            report = []
            for instance in await store.instances_on(source["id"]):
                plan = self._host.engine.plan_migration(before, instance["state"], after)
                entry: dict[str, Any] = {
                    "instance_id": str(instance["id"]),
                    "business_key": instance["business_key"],
                    "status": instance["status"],
                    "safe": plan.safe,
                    "reasons": list(plan.reasons),
                    "reset_tasks": list(plan.reset_tasks),
                    "kept_timers": list(plan.kept_timers),
                    "migrated": False,
                }
                if plan.safe and not dry_run:
                    result = self._host.engine.migrate(before, instance["state"], after, now=self._host.now())
                    if instance["status"] == "suspended" and result.status == "running":
                        result = replace(result, status="suspended")
                    step = Step(
                        "migrated",
                        Actor(principal.subject, Role.PROCESS_DESIGNER.value),
                        comment=reason,
                        details={"from_version": old, "to_version": new},
                    )
                    await self._transitions.save(
                        s, store, instance, new_version, result, step, definition_id=target["id"]
                    )
                    entry["migrated"] = True
                report.append(entry)
        log.info(
            "process migration",
            extra={"process_key": process_key, "from": old, "to": new, "dry_run": dry_run, "instances": len(report)},
        )
        return {
            "process_key": process_key,
            "from": old,
            "to": new,
            "dry_run": dry_run,
            "instances": report,
            "safe": sum(1 for r in report if r["safe"]),
            "unsafe": sum(1 for r in report if not r["safe"]),
        }


def read_diagrams(root: Path) -> list[tuple[str, str, list[str]]]:
    """(key, BPMN text, DMN texts in the same folder) for every `bpmn/<key>/<key>.bpmn`."""
    return [
        (
            path.stem,
            path.read_text(encoding="utf-8"),
            [t.read_text(encoding="utf-8") for t in sorted(path.parent.glob("*.dmn"))],
        )
        for path in sorted(root.glob("*/*.bpmn"))
        if path.stem == path.parent.name
    ]
