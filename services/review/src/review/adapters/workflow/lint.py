"""Adapters: our rules for a diagram, checked on the XML before SpiffWorkflow sees it.

The library validates BPMN against the XSD and its own semantics; these rules add what the review
service needs: lanes are roles, user tasks say their form and decisions, timers parse, messages are
ones the host knows, and expressions call only our helpers unless an admin trusts the definition.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from review.usecases.outbound import INBOUND_MESSAGES, OUTBOUND_MESSAGES
from review.usecases.ports import DiagramProblem as Problem
from zc_auth import Role

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
MAX_SOURCE_BYTES = 2 * 1024 * 1024
DECISIONS = {"approve", "return", "reject"}
HELPERS = {"working_days_later", "meets_ratio"}
BUILTINS = {
    "len",
    "sum",
    "min",
    "max",
    "abs",
    "round",
    "sorted",
    "range",
    "enumerate",
    "zip",
    "any",
    "all",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "dict",
    "set",
    "tuple",
    "isinstance",
}
THROWING = {f"{BPMN}endEvent", f"{BPMN}intermediateThrowEvent"}
CATCHING = {f"{BPMN}startEvent", f"{BPMN}intermediateCatchEvent", f"{BPMN}boundaryEvent"}


def hardened_parse(text: str) -> tuple[etree._Element | None, list[Problem]]:
    """No DTD, no entities, no network, a size limit: malformed or hostile XML is a problem, never run."""
    if len(text.encode("utf-8")) > MAX_SOURCE_BYTES:
        return None, [Problem(None, None, "流程文件超过 2 MB 上限")]
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None, [Problem(None, None, "流程文件不得包含 DTD 或实体声明")]
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(text.encode("utf-8"), parser), []
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        return None, [Problem(None, line, f"流程文件不是合法的 XML：{exc.msg}")]


def lint(source: str, *, trusted: bool) -> list[Problem]:
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
            problems.extend(_timer(timer, kind, trusted))
    for script in root.iter(f"{BPMN}scriptTask"):
        if not trusted:
            problems.append(_at(script, "脚本任务需要管理员将流程标记为可信后才能部署"))
        code = "".join(script.itertext()).strip()
        problems.extend(_expression(script, code, "exec", trusted=True))
    for element in _expressions(root):
        problems.extend(_expression(element, (element.text or "").strip(), "eval", trusted=trusted))
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


def _expressions(root: etree._Element) -> Iterable[etree._Element]:
    yield from root.iter(f"{BPMN}conditionExpression")
    yield from root.iter(f"{SPIFF}messagePayload")


def _timer(element: etree._Element, kind: str, trusted: bool) -> list[Problem]:
    text = (element.text or "").strip()
    problems = _expression(element, text, "eval", trusted=trusted)
    if problems:
        return problems
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


def _expression(element: etree._Element, text: str, mode: str, *, trusted: bool) -> list[Problem]:
    if not text:
        return [_at(element, "表达式为空")]
    try:
        tree = ast.parse(text, mode=mode)
    except SyntaxError as exc:
        return [_at(element, f"表达式语法错误：{exc.msg}")]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            problems.append(_at(element, "表达式中不得导入模块"))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            problems.append(_at(element, f"表达式中不得访问内部属性 {node.attr}"))
        elif isinstance(node, ast.Name) and node.id.startswith("__"):
            problems.append(_at(element, f"表达式中不得使用 {node.id}"))
        elif (
            not trusted
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in HELPERS | BUILTINS
        ):
            problems.append(_at(element, f"表达式只能调用系统提供的函数，不能调用 {node.func.id}"))
    return problems


def _at(element: etree._Element, message: str) -> Problem:
    target = element
    while target is not None and target.get("id") is None:
        target = target.getparent()
    return Problem(target.get("id") if target is not None else None, element.sourceline, message)


def lint_all(source: str, decisions: Sequence[str], *, trusted: bool) -> list[Problem]:
    problems = lint(source, trusted=trusted)
    for table in decisions:
        problems.extend(hardened_parse(table)[1])
    return problems
