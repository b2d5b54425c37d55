"""Adapters: our rules for a diagram, checked on the XML before SpiffWorkflow sees it.

The library validates BPMN against the XSD and its own semantics; these rules add what the review
service needs: the XML is UTF-8 with no DTD or entity, lanes are roles, user tasks say their form and
decisions, constant timers parse, and messages are ones the host knows. Every expression and script is
checked by the sandbox's allowlist on the parsed specs (spiff.py, `SpiffEngine.validate`).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from review.adapters.workflow.sandbox import check
from review.usecases.outbound import INBOUND_MESSAGES, OUTBOUND_MESSAGES
from review.usecases.ports import DiagramProblem as Problem
from zc_auth import Role

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
MAX_SOURCE_BYTES = 2 * 1024 * 1024
DECISIONS = {"approve", "return", "reject"}
THROWING = {f"{BPMN}endEvent", f"{BPMN}intermediateThrowEvent"}
CATCHING = {f"{BPMN}startEvent", f"{BPMN}intermediateCatchEvent", f"{BPMN}boundaryEvent"}


def hardened_parse(text: str) -> tuple[etree._Element | None, list[Problem]]:
    """No DTD, no entities, no network, a size limit, UTF-8 only: hostile XML is a problem, never run.

    What is refused is found on the parsed tree (its declared encoding, doctype, DTD and entity nodes), not
    by searching the text: a document declaring UTF-7 hides `<!DOCTYPE` from any text search."""
    data = text.encode("utf-8")
    if len(data) > MAX_SOURCE_BYTES:
        return None, [Problem(None, None, "流程文件超过 2 MB 上限")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return None, [Problem(None, line if isinstance(line, int) else None, f"流程文件不是合法的 XML：{exc}")]
    info = root.getroottree().docinfo
    if (info.encoding or "").upper().replace("_", "-") not in {"UTF-8", "UTF8"}:
        return None, [Problem(None, 1, f"流程文件必须是 UTF-8 编码（声明的编码为 {info.encoding}）")]
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        return None, [Problem(None, 1, "流程文件不得包含 DTD 或实体声明")]
    if (entity := next(root.iter(etree.Entity), None)) is not None:
        return None, [Problem(None, entity.sourceline, "流程文件不得包含 DTD 或实体声明")]
    return root, []


def lint(source: str) -> list[Problem]:
    root, problems = hardened_parse(source)
    if root is None:
        return problems
    messages = {m.get("id"): m.get("name") for m in root.iter(f"{BPMN}message")}
    in_lane: set[str] = set()
    for lane in root.iter(f"{BPMN}lane"):
        if lane.get("name") not in {r.value for r in Role}:
            problems.append(
                _at(lane, f"泳道“{lane.get('name')}”不是已知角色（应为 {', '.join(r.value for r in Role)} 之一）")
            )
        in_lane.update((ref.text or "").strip() for ref in lane.iter(f"{BPMN}flowNodeRef"))
    for task in root.iter(f"{BPMN}userTask"):
        props = {p.get("name"): p.get("value") for p in task.iter(f"{SPIFF}property")}
        if not props.get("formKey"):
            problems.append(_at(task, "用户任务缺少表单（formKey）"))
        decisions = [d.strip() for d in (props.get("decisions") or "").split(",") if d.strip()]
        if not decisions:
            problems.append(_at(task, "用户任务缺少可选审核结论（decisions）"))
        elif unknown := sorted(set(decisions) - DECISIONS):
            problems.append(_at(task, f"未知的审核结论：{', '.join(unknown)}"))
        if task.get("id") not in in_lane:
            problems.append(_at(task, "用户任务不在任何泳道中，无法确定办理角色"))
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        for timer in root.iter(f"{BPMN}{kind}"):
            problems.extend(_timer(timer, kind))
    for event in root.iter(f"{BPMN}messageEventDefinition"):
        name = messages.get(event.get("messageRef"))
        owner = event.getparent()
        if name is None:
            problems.append(_at(event, "消息事件引用了未定义的消息"))
        elif owner is not None and owner.tag in THROWING and name not in OUTBOUND_MESSAGES:
            problems.append(_at(owner, f"流程发出的消息“{name}”不是已知的流出消息"))
        elif owner is not None and owner.tag in CATCHING and name not in INBOUND_MESSAGES:
            problems.append(_at(owner, f"流程等待的消息“{name}”不是已知的流入消息"))
    return problems


def _timer(element: etree._Element, kind: str) -> list[Problem]:
    """A constant timer must be valid ISO 8601 (an expression is checked with every other expression)."""
    text = (element.text or "").strip()
    if not text:
        return [_at(element, "定时器为空")]
    if check(text):
        return []  # refused by the sandbox: reported where every expression is checked
    tree = ast.parse(text, mode="eval").body
    if isinstance(tree, ast.Constant):
        if not isinstance(tree.value, str) or not _iso_ok(tree.value, kind):
            return [_at(element, f"定时器“{text}”不是合法的 ISO 8601 {'时间' if kind == 'timeDate' else '时长'}")]
    return []


def _iso_ok(value: str, kind: str) -> bool:
    try:
        if kind == "timeDate":
            return datetime.fromisoformat(value).tzinfo is not None  # a naive time means the server's zone
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
        return True
    except Exception:
        return False


def owner_id(element: etree._Element) -> str | None:
    """The id of the element or of its nearest ancestor that has one (what a problem is reported against)."""
    target: etree._Element | None = element
    while target is not None and target.get("id") is None:
        target = target.getparent()
    return target.get("id") if target is not None else None


def _at(element: etree._Element, message: str) -> Problem:
    return Problem(owner_id(element), element.sourceline, message)


def lint_all(source: str, decisions: Sequence[str]) -> list[Problem]:
    problems = lint(source)
    for table in decisions:
        problems.extend(hardened_parse(table)[1])
    return problems
