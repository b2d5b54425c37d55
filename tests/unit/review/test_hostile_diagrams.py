"""Hostile diagrams: every expression site the engine evaluates × every attack class (issue 16).

Each diagram is validated untrusted and trusted (what deploy runs): it must be refused naming the element and
the line, unless it is a resource bomb the allowlist admits, which must then fail at run time. Each is also
parsed without validation (a definition deployed before the sandbox, or a tampered row) and driven to the
site: the instance must end in an error operators see. In no case may the marker file appear or the secret
environment variable reach task data, an outbound event or the error text.
"""

from __future__ import annotations

import json
import os
import tempfile
import tokenize
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from review.adapters.workflow.spiff import InvalidProcessError, SpiffEngine
from review.domain.calendar import BusinessCalendar
from review.usecases.ports import EngineState

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ENGINE = SpiffEngine(BusinessCalendar.load())
MARKER = Path(tempfile.gettempdir()) / f"zc-hostile-marker-{os.getpid()}"
SECRET_NAME, SECRET = "ZC_HOSTILE_SECRET", "s3cr3t-7f1d2e"
M = str(MARKER)

# -- attack classes (an expression; scripts assign it, or run their own statements) -------------------------

ATTACKS: dict[str, str] = {
    "import": f"__import__('os').system('touch {M}')",
    "subclasses_walk": (
        "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
        f"._module.__builtins__['__import__']('os').system('touch {M}')"
    ),
    "format_walk": "'{0.__globals__[os].environ[" + SECRET_NAME + "]}'.format(meets_ratio)",
    "format_map_walk": "'{x.__class__}'.format_map({'x': 1})",
    "frame_walk": (
        f"(x for x in [1]).gi_frame.f_back.f_globals['__builtins__']['__import__']('os').system('touch {M}')"
    ),
    "function_globals": f"meets_ratio.__globals__['json'].__builtins__['open']('{M}', 'w')",
    "getattr": f"getattr(getattr(meets_ratio, '__glo' + 'bals__')['os'], 'system')('touch {M}')",
    "eval": f"eval(\"__import__('os').system('touch {M}')\")",
    "exec": f"exec(\"__import__('os').system('touch {M}')\")",
    "compile": "compile('1', 'x', 'eval')",
    "open": f"open('{M}', 'w').write('x')",
    "globals_vars": "globals()['__builtins__'] or vars()",
    "lambda": f"(lambda: __import__('os').system('touch {M}'))()",
    "dict_attribute": "{'a': 1}.__class__.__subclasses__()",
    "environ_via_data": "application_id.__class__.__mro__",
    "power_bomb": "9 ** 9 ** 9",
    "repeat_bomb": "'a' * 10 ** 10",
    "list_repeat_bomb": "len([0] * 10 ** 9)",
    "range_bomb": "sum(range(10 ** 12))",
    "nested_comprehension": "len([1 for a in range(9999) for b in range(9999)])",
    "text_bomb": "str(['a' * 99999] * 99999)",
    "printf_bomb": "'%999999999s' % 1",
    "format_spec_bomb": "f'{1:>999999999}'",
    "deep_nesting": "-" * 500 + "1",
    "deep_lists": "[" * 80 + "]" * 80,
}
SCRIPT_ATTACKS: dict[str, str] = {
    "import_statement": f"import os\nos.system('touch {M}')",
    "while_loop": "while True:\n    x = 1",
    "function_def": f"def f():\n    return __import__('os').system('touch {M}')\nf()",
    "loop_bomb": "n = 0\nfor i in range(9999):\n    for j in range(9999):\n        n += 1",
    "growing_bomb": "x = ['a' * 99999]\nfor i in range(60):\n    x = x + x",
    "store_function": "f = len",
    "store_iterator": "z = zip([1], [2])",
}
# Bombs the allowlist admits (they are ordinary arithmetic): refused only when evaluated.
RUNTIME_ONLY = {
    "power_bomb",
    "repeat_bomb",
    "list_repeat_bomb",
    "range_bomb",
    "nested_comprehension",
    "text_bomb",
    "printf_bomb",
    "loop_bomb",
    "growing_bomb",
    "store_function",
    "store_iterator",
}

# -- one small diagram per expression site; the site's element ids are what a refusal must name -------------

USER_TASK = """<bpmn:userTask id="{id}" name="审核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="unit_review_v1" />
          <spiffworkflow:property name="decisions" value="approve" />
        </spiffworkflow:properties>{extensions}
      </bpmn:extensionElements>{loop}
    </bpmn:userTask>"""


def user_task(id_: str = "site", extensions: str = "", loop: str = "") -> str:
    return USER_TASK.format(id=id_, extensions=extensions, loop=loop)


def flow(source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}" />'
    return (
        f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn_defs" name="d" namespace="zc">
  <decision id="hostile_decision" name="判定">
    <decisionTable id="table">
      <input id="in_1" label="学历">
        <inputExpression id="in_1_expr" typeRef="string"><text>{input}</text></inputExpression>
      </input>
      <output id="out_1" label="结论" name="verdict" typeRef="string" />
      <rule id="rule_1">
        <inputEntry id="rule_1_in"><text>{entry}</text></inputEntry>
        <outputEntry id="rule_1_out"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def site_condition(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:exclusiveGateway id="site" default="f_site_end" />'
        + flow("site", "end")
        + flow("site", "end2", x)
        + '<bpmn:endEvent id="end2" />'
    )
    return body, "", ("f_site_end2", "site")


def site_script(x: str) -> tuple[str, str, tuple[str, ...]]:
    return (
        f'<bpmn:scriptTask id="site"><bpmn:script>{escape(x)}</bpmn:script></bpmn:scriptTask>' + flow("site", "end"),
        "",
        ("site",),
    )


def site_prescript(x: str) -> tuple[str, str, tuple[str, ...]]:
    pre = f"\n        <spiffworkflow:preScript>{escape(x)}</spiffworkflow:preScript>"
    return user_task(extensions=pre) + flow("site", "end"), "", ("site",)


def site_postscript(x: str) -> tuple[str, str, tuple[str, ...]]:
    post = f"\n        <spiffworkflow:postScript>{escape(x)}</spiffworkflow:postScript>"
    return user_task(extensions=post) + flow("site", "end"), "", ("site",)


def site_cardinality(x: str) -> tuple[str, str, tuple[str, ...]]:
    loop = (
        "\n      <bpmn:multiInstanceLoopCharacteristics>"
        f"<bpmn:loopCardinality>{escape(x)}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
    )
    return user_task(loop=loop) + flow("site", "end"), "", ("site",)


def site_completion(x: str) -> tuple[str, str, tuple[str, ...]]:
    loop = (
        "\n      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>"
        f"<bpmn:completionCondition>{escape(x)}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>"
    )
    return user_task(loop=loop) + flow("site", "end"), "", ("site",)


def site_loop_condition(x: str) -> tuple[str, str, tuple[str, ...]]:
    loop = (
        "\n      <bpmn:standardLoopCharacteristics>"
        f"<bpmn:loopCondition>{escape(x)}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
    )
    return user_task(loop=loop) + flow("site", "end"), "", ("site",)


def site_service_parameter(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:serviceTask id="site"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="notify/send" resultVariable="sent"><spiffworkflow:parameters>'
        f'<spiffworkflow:parameter id="text" type="str" value={quoteattr(x)} />'
        "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
    )
    return body + flow("site", "end"), "", ("site",)


def site_timer(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:intermediateCatchEvent id="site"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>{escape(x)}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    return body + flow("site", "end"), "", ("site",)


def site_message_payload(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:intermediateThrowEvent id="site"><bpmn:messageEventDefinition messageRef="msg_out">'
        f"<bpmn:extensionElements><spiffworkflow:messagePayload>{escape(x)}</spiffworkflow:messagePayload>"
        "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>"
    )
    return body + flow("site", "end"), "", ("site",)


def site_correlation_retrieval(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:intermediateThrowEvent id="site"><bpmn:messageEventDefinition messageRef="msg_out">'
        '<bpmn:extensionElements><spiffworkflow:messagePayload>{"stage": "unit"}</spiffworkflow:messagePayload>'
        "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>"
    )
    roots = (
        '<bpmn:correlationProperty id="application_key" name="application_key">'
        '<bpmn:correlationPropertyRetrievalExpression messageRef="msg_out">'
        f"<bpmn:messagePath>{escape(x)}</bpmn:messagePath></bpmn:correlationPropertyRetrievalExpression>"
        "</bpmn:correlationProperty>"
    )
    return body + flow("site", "end"), roots, ("application_key", "site")


def site_signal_payload(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:intermediateThrowEvent id="site"><bpmn:signalEventDefinition signalRef="sig" />'
        "</bpmn:intermediateThrowEvent>"
    )
    roots = (
        '<bpmn:signal id="sig" name="zc_signal"><bpmn:extensionElements>'
        f"<spiffworkflow:payloadExpression>{escape(x)}</spiffworkflow:payloadExpression>"
        "</bpmn:extensionElements></bpmn:signal>"
    )
    return body + flow("site", "end"), roots, ("sig", "site")


def site_process_correlation(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:intermediateCatchEvent id="site"><bpmn:messageEventDefinition messageRef="msg_in">'
        "<bpmn:extensionElements><spiffworkflow:processVariableCorrelation>"
        "<spiffworkflow:propertyId>application_key</spiffworkflow:propertyId>"
        f"<spiffworkflow:expression>{escape(x)}</spiffworkflow:expression>"
        "</spiffworkflow:processVariableCorrelation></bpmn:extensionElements>"
        "</bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>"
    )
    return body + flow("site", "end"), "", ("site",)


def site_conditional_event(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:intermediateCatchEvent id="site"><bpmn:conditionalEventDefinition>'
        f"<bpmn:condition>{escape(x)}</bpmn:condition></bpmn:conditionalEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )
    return body + flow("site", "end"), "", ("site",)


def site_business_rule(x: str) -> tuple[str, str, tuple[str, ...]]:
    body = (
        '<bpmn:businessRuleTask id="site"><bpmn:extensionElements>'
        "<spiffworkflow:calledDecisionId>hostile_decision</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )
    return body + flow("site", "end"), "", ("site",)


SITES = {
    "sequence_flow_condition": (site_condition, False),
    "script_task": (site_script, True),
    "pre_script": (site_prescript, True),
    "post_script": (site_postscript, True),
    "mi_cardinality": (site_cardinality, False),
    "mi_completion_condition": (site_completion, False),
    "standard_loop_condition": (site_loop_condition, False),
    "service_task_parameter": (site_service_parameter, False),
    "timer_expression": (site_timer, False),
    "message_payload": (site_message_payload, False),
    "correlation_retrieval": (site_correlation_retrieval, False),
    "signal_payload": (site_signal_payload, False),
    "process_variable_correlation": (site_process_correlation, False),
    "conditional_event": (site_conditional_event, False),
    "dmn_input_expression": (site_business_rule, False),
    "dmn_input_entry": (site_business_rule, False),
    "dmn_output_entry": (site_business_rule, False),
}
DMN_CELLS = {"dmn_input_expression": "input", "dmn_input_entry": "entry", "dmn_output_entry": "output"}


def diagram(site: str, attack: str) -> tuple[str, list[str], tuple[str, ...]]:
    text = SCRIPT_ATTACKS[attack] if attack in SCRIPT_ATTACKS else ATTACKS[attack]
    if SITES[site][1] and attack in ATTACKS:
        text = f"result = {text}"
    return diagram_with(site, text)


def diagram_with(site: str, text: str) -> tuple[str, list[str], tuple[str, ...]]:
    build, _script = SITES[site]
    decisions: list[str] = []
    if site in DMN_CELLS:
        cells = {"input": "education", "entry": '"博士研究生"', "output": '"ok"', DMN_CELLS[site]: escape(text)}
        decisions = [DMN.format(**cells)]
        body, roots, ids = build("1")
        ids = ("in_1_expr", "in_1", "rule_1_in", "rule_1_out", "rule_1", "hostile_decision", "site")
    else:
        body, roots, ids = build(text)
    source = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="hostile_defs" targetNamespace="https://zhicheng.example/bpmn">
  <bpmn:message id="msg_out" name="application_approved" />
  <bpmn:message id="msg_in" name="resubmitted" />
  {roots}
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_unit" name="unit_reviewer"><bpmn:flowNodeRef>site</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    {flow("start", "site")}
    {body}
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""
    return source, decisions, ids


CASES = [
    (site, attack)
    for site, (_build, script) in SITES.items()
    for attack in [*ATTACKS, *(SCRIPT_ATTACKS if script else ())]
]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_NAME, SECRET)
    MARKER.unlink(missing_ok=True)


def drive(source: str, decisions: list[str]) -> EngineState:
    """Parse without validation (as a definition stored before the sandbox) and push the instance to the site."""
    definition = ENGINE.parse("hostile", source, decisions)
    state = ENGINE.start(definition, {"application_id": "A1", "education": "博士研究生"}, now=NOW)
    for _ in range(6):
        if state.status != "running":
            break
        if state.open_tasks:
            task = state.open_tasks[0].task_id
            state = ENGINE.complete_task(definition, state.state, task, {"decision": "approve"}, now=NOW)
        elif messages := [w for w in state.waiting if w.kind == "message"]:
            payload = {"application_id": "A1"}
            state = ENGINE.deliver_message(definition, state.state, messages[0].name, payload, now=NOW)
        else:
            state = ENGINE.fire_timers(definition, state.state, now=NOW + timedelta(days=400))
    return state


def assert_nothing_ran(*texts: object) -> None:
    assert not MARKER.exists(), "a diagram ran code: the marker file exists"
    for text in texts:
        assert SECRET not in json.dumps(text, ensure_ascii=False, default=str)


@pytest.mark.parametrize(("site", "attack"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_a_hostile_diagram_is_refused_at_deploy_and_never_runs(site: str, attack: str) -> None:
    source, decisions, ids = diagram(site, attack)
    for trusted in (False, True):
        problems = ENGINE.validate("hostile", source, decisions, trusted=trusted)
        if attack in RUNTIME_ONLY and (trusted or not SITES[site][1]):
            continue  # admitted by the allowlist (arithmetic): it must fail when run, below
        assert problems, f"{site} × {attack} deployed (trusted={trusted})"
        assert any(p.element_id in ids and isinstance(p.line, int) for p in problems), problems
        assert_nothing_ran([p.message for p in problems])

    state = drive(source, decisions)
    assert state.status == "error", (state.status, state.error)
    assert state.error
    assert_nothing_ran(state.data, [e.payload for e in state.outbound], state.error)


@pytest.mark.parametrize("site", sorted(SITES))
def test_each_site_evaluates_ordinary_text(site: str) -> None:
    """The control: the same diagrams with harmless text deploy and run (so the refusals above are the
    sandbox's, not a broken diagram)."""
    harmless = {
        "sequence_flow_condition": 'application_id == "A2"',
        "script_task": "total = len(application_id)",
        "pre_script": "seen = application_id.lower()",
        "post_script": "done = True",
        "mi_cardinality": "1 + 1",
        "mi_completion_condition": 'decision == "approve"',
        "standard_loop_condition": 'decision != "approve"',  # loops while true
        "service_task_parameter": 'f"申报 {application_id}"',
        "timer_expression": '"PT1H"',
        "message_payload": '{"stage": "unit", "id": application_id}',
        "correlation_retrieval": "stage",
        "signal_payload": '{"id": application_id}',
        "process_variable_correlation": "application_id",
        "conditional_event": "True",
        "dmn_input_expression": "education",
        "dmn_input_entry": '"博士研究生"',
        "dmn_output_entry": '"ok"',
    }[site]
    source, decisions, _ids = diagram_with(site, harmless)
    assert ENGINE.validate("hostile", source, decisions, trusted=True) == []
    state = drive(source, decisions)
    assert state.status == "completed", (state.status, state.error)
    if site.startswith("dmn"):
        assert state.data["verdict"] == "ok"


ENCODING_TRICKS = {
    "utf7_doctype": (
        '<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE d +AFs-+ADw-!ENTITY a +ACI-aaaa+ACI-+AD4-+AF0-+AD4-'
        "+ADw-d+AD4-+ACY-a+ADs-+ADw-/d+AD4-"
    ),
    "utf7_condition": None,  # filled below: a whole diagram in UTF-7
    "utf16_declared": '<?xml version="1.0" encoding="UTF-16"?><d>x</d>',
    # UTF-16 without a BOM, as a client that sends the raw bytes as characters would; then declaring UTF-8
    "utf16_without_bom": '<?xml version="1.0" encoding="UTF-16"?><d>x</d>'.encode("utf-16-le").decode("latin-1"),
    "utf16_declared_utf8": '<?xml version="1.0" encoding="UTF-8"?><d>x</d>'.encode("utf-16-le").decode("latin-1"),
    "latin1_declared": '<?xml version="1.0" encoding="ISO-8859-1"?><d>é</d>',
    "doctype_no_entities": '<?xml version="1.0"?><!DOCTYPE d><d>x</d>',
    "billion_laughs": ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'),
    "external_entity": f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{M}">]><d>&x;</d>',
}


def _utf7_diagram() -> str:
    source, _, _ = diagram("sequence_flow_condition", "open")
    body = source.split("?>", 1)[1]
    return '<?xml version="1.0" encoding="UTF-7"?>' + body.encode("utf-7").decode("ascii")


@pytest.mark.parametrize("case", sorted(ENCODING_TRICKS))
def test_encoding_tricks_and_entities_are_refused_before_the_library_sees_them(case: str) -> None:
    text = ENCODING_TRICKS[case] or _utf7_diagram()
    problems = ENGINE.validate("hostile", text, [], trusted=True)
    assert problems and problems[0].message
    assert any(word in problems[0].message for word in ("UTF-8", "DTD", "XML")), problems
    with pytest.raises(InvalidProcessError, match=r"UTF-8|DTD|XML"):
        ENGINE.parse("hostile", text)
    # the same rules for DMN tables
    dmn_problems = ENGINE.validate("hostile", diagram("dmn_output_entry", "import")[0], [text], trusted=True)
    assert dmn_problems
    assert_nothing_ran()


def test_no_path_to_eval_or_exec_remains_in_the_review_service() -> None:
    """Only the sandbox evaluates diagram text: no call of eval, exec or compile (a method such as
    re.compile is not the builtin), and the library never parses XML itself (no add_*_str)."""
    found = []
    for path in sorted((REPO / "services" / "review" / "src").rglob("*.py")):
        with path.open("rb") as handle:
            tokens = [t for t in tokenize.tokenize(handle.readline) if t.type not in (tokenize.NL, tokenize.COMMENT)]
        for before, token, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
            name = token.string
            is_call = after.string == "(" and before.string != "." and before.string != "def"
            if token.type == tokenize.NAME and name in {"eval", "exec", "compile", "__import__"} and is_call:
                found.append(f"{path.relative_to(REPO)}:{token.start[0]} {name}(")
            if token.type == tokenize.NAME and name in {"add_bpmn_str", "add_dmn_str", "add_bpmn_file"}:
                found.append(f"{path.relative_to(REPO)}:{token.start[0]} {name}")
    assert found == []
