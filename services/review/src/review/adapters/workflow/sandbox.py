"""Adapters: the one evaluator for every piece of diagram text — conditions, timers, payloads, scripts, DMN cells.

A text is parsed to an AST and accepted only if every node is of an allowed kind (`check`, cached per text);
the accepted tree is then walked by simpleeval's evaluator with the same node set, our operators and our
functions. Nothing here calls `eval`, `exec` or `compile`. What is allowed (decision 0016):
- literals (None, bool, int, float, str), names of task data and of our functions, comparisons, boolean and
  arithmetic operators, subscripts and slices, conditional expressions, f-strings with a plain format spec,
  list / tuple / dict literals, list / dict comprehensions and generator expressions over data;
- calls to `FUNCTIONS` only (bounded builtins and our helpers), and to the methods in `METHODS`, checked per
  type at run time;
- scripts add assignment to names, augmented assignment, `if`, `for` (bounded) and expression statements.
No name or attribute starting with `_`, no other attribute, no lambda, import, `**`, `*`, walrus or `%` text
formatting. Values are bounded (text length, items, integer size, the size of what a script stores), and one
evaluation may run at most `TIME_LIMIT` seconds; past any bound the evaluation fails with `ExpressionError`.
"""

from __future__ import annotations

import ast
import functools
import operator as op
import re
import textwrap
import threading
import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import simpleeval

from review.domain.errors import DomainError

MAX_EXPRESSION_CHARS = 10_000
MAX_SCRIPT_CHARS = 20_000
MAX_DEPTH = 60  # AST nesting (a parenthesis, an operand, a call argument each add one)
MAX_ITEMS = (
    simpleeval.MAX_COMPREHENSION_LENGTH
)  # 10,000: a sequence's length, a range, comprehension elements, loop iterations per evaluation
MAX_TEXT = simpleeval.MAX_STRING_LENGTH  # 100,000 characters (simpleeval's own bound for + and *)
MAX_VALUE_SIZE = 1_000_000  # characters + items of a value a script stores or an expression returns
MAX_INT_BITS = 4_096
TIME_LIMIT = 1.0  # seconds per evaluation

# Format specs in f-strings: alignment, sign, width (≤ 3 digits), grouping, precision, type — nothing nested.
_FORMAT_SPEC = re.compile(r"[^{}]?[<>^=]?[+\- ]?#?0?\d{0,3}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?")


class ExpressionError(DomainError):
    """A diagram's text is outside the allowlist, or its evaluation passed a bound."""

    code = "review.expression_refused"
    status_hint = 422


@dataclass(frozen=True)
class Refusal:
    line: int | None  # within the text, 1-based
    message: str


# -- what may be called -----------------------------------------------------------------------------------


def _bounded_range(*args: int) -> range:
    try:
        numbers = range(*args)
        size = len(numbers)
    except OverflowError:
        size = MAX_ITEMS + 1
    if size > MAX_ITEMS:
        raise ExpressionError(f"range 超过 {MAX_ITEMS} 个元素的上限")
    return numbers


def _bounded_str(value: Any = "") -> str:
    _check_size(value, MAX_TEXT, "文本")
    return str(value)


def _numeric_sum(values: Iterable[Any], start: int | float = 0) -> Any:
    if not isinstance(start, int | float):  # sum(lists, []) concatenates without a bound
        raise ExpressionError("sum 只能对数字求和")
    return sum(values, start)


BUILTINS: dict[str, Callable[..., Any]] = {
    "len": len,
    "sum": _numeric_sum,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "sorted": sorted,
    "range": _bounded_range,
    "enumerate": enumerate,
    "zip": zip,
    "any": any,
    "all": all,
    "str": _bounded_str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "tuple": tuple,
    "set": set,
}

# Methods by the exact type of the object; nothing on other types (datetimes, functions, classes...).
METHODS: dict[type | None, set[str]] = {
    str: {"lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "count", "find", "isdigit"},
    list: {"count", "index", "append"},
    tuple: {"count", "index"},
    dict: {"get", "keys", "values", "items"},
}
METHOD_NAMES = frozenset(name for names in METHODS.values() for name in names)

# -- operators with bounds ----------------------------------------------------------------------------------


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"整数超过 {MAX_INT_BITS} 位的上限")
    return value


def _add(a: Any, b: Any) -> Any:
    return _check_int(simpleeval.safe_add(a, b))


def _mult(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
        raise ExpressionError(f"整数超过 {MAX_INT_BITS} 位的上限")
    return simpleeval.safe_mult(a, b)  # a sequence repeated: at most MAX_TEXT items or characters


def _power(a: Any, b: Any) -> Any:
    # |a| >= 2 ** (bits(a) - 1), so a ** b has at least b * (bits(a) - 1) bits: refuse before computing
    if isinstance(a, int) and isinstance(b, int) and b > 0 and b * (abs(a).bit_length() - 1) > MAX_INT_BITS:
        raise ExpressionError(f"乘方结果超过 {MAX_INT_BITS} 位的上限")
    return _check_int(op.pow(a, b))  # a float that overflows raises OverflowError at once


def _modulo(a: Any, b: Any) -> Any:
    if isinstance(a, str):  # "%999999999s" % x: printf formatting is not offered
        raise ExpressionError("不支持用 % 格式化文本，请使用 f-string")
    return op.mod(a, b)


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _add,
    ast.Sub: lambda a, b: _check_int(op.sub(a, b)),
    ast.Mult: _mult,
    ast.Div: op.truediv,
    ast.FloorDiv: op.floordiv,
    ast.Mod: _modulo,
    ast.Pow: _power,
    ast.USub: op.neg,
    ast.UAdd: op.pos,
    ast.Not: op.not_,
    ast.Eq: op.eq,
    ast.NotEq: op.ne,
    ast.Lt: op.lt,
    ast.LtE: op.le,
    ast.Gt: op.gt,
    ast.GtE: op.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: op.is_,
    ast.IsNot: op.is_not,
}

# -- the allowlist of nodes ---------------------------------------------------------------------------------

EXPRESSION_NODES: frozenset[type] = frozenset(
    {
        ast.Constant,
        ast.Name,
        ast.UnaryOp,
        ast.BinOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.Call,
        ast.keyword,
        ast.Subscript,
        ast.Attribute,
        ast.Slice,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Dict,
        ast.List,
        ast.Tuple,
        ast.ListComp,
        ast.GeneratorExp,
        ast.DictComp,
    }
)
# nodes that are never evaluated on their own: the roots, contexts, operators and comprehension clauses
_STRUCTURE: frozenset[type] = frozenset(
    {ast.Expression, ast.Load, ast.Store, ast.And, ast.Or, ast.comprehension, *OPERATORS}
)
STATEMENT_NODES: frozenset[type] = frozenset(
    {ast.Module, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Expr, ast.Pass}
)

_NODE_NAMES = {
    ast.Lambda: "lambda",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.NamedExpr: ":=",
    ast.Starred: "*",
    ast.SetComp: "集合推导式",
    ast.Set: "集合",
    ast.While: "while 循环",
    ast.FunctionDef: "函数定义",
    ast.ClassDef: "类定义",
    ast.With: "with",
    ast.Try: "try",
    ast.Raise: "raise",
    ast.Delete: "del",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Return: "return",
}


def normalize(text: str, *, script: bool) -> str:
    """The text as it is checked and run: expressions stripped, scripts dedented (BPMN indents them)."""
    return textwrap.dedent(text).strip() if script else text.strip()


def check(text: str, *, script: bool = False) -> list[Refusal]:
    """Every reason the text is refused (empty when it is accepted). Nothing is evaluated."""
    try:
        _accepted(normalize(text, script=script), script)
    except _Refused as refused:
        return list(refused.refusals)
    return []


class _Refused(Exception):
    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals


@functools.lru_cache(maxsize=4096)
def _accepted(text: str, script: bool) -> ast.AST:
    """The checked tree of a normalized text (cached: a gateway's condition is evaluated on every step)."""
    limit = MAX_SCRIPT_CHARS if script else MAX_EXPRESSION_CHARS
    if not text:
        raise _Refused([Refusal(None, "表达式为空")])
    if len(text) > limit:
        raise _Refused([Refusal(None, f"表达式超过 {limit} 个字符的上限")])
    try:
        tree = ast.parse(text, mode="exec" if script else "eval")
    except SyntaxError as exc:
        raise _Refused([Refusal(exc.lineno, f"表达式语法错误：{exc.msg}")]) from None
    except (RecursionError, MemoryError, ValueError):
        raise _Refused([Refusal(None, "表达式嵌套过深或含有非法字符")]) from None
    refusals = _Checker(script).refusals(tree)
    if refusals:
        raise _Refused(refusals)
    return tree


class _Checker:
    def __init__(self, script: bool) -> None:
        self.allowed = EXPRESSION_NODES | _STRUCTURE | (STATEMENT_NODES if script else frozenset())
        self.script = script

    def refusals(self, tree: ast.AST) -> list[Refusal]:
        found: list[Refusal] = []
        stack: list[tuple[ast.AST, int, int | None]] = [(tree, 0, None)]
        while stack:  # iterative: a hostile text may nest deeper than Python's recursion limit
            node, depth, line = stack.pop()
            line = getattr(node, "lineno", line)
            if depth > MAX_DEPTH:
                found.append(Refusal(line, f"表达式嵌套超过 {MAX_DEPTH} 层"))
                break
            reason = self._reason(node)
            if reason:
                found.append(Refusal(line, reason))
                continue
            stack.extend((child, depth + 1, line) for child in ast.iter_child_nodes(node))
        found.sort(key=lambda r: r.line or 0)
        return found

    def _reason(self, node: ast.AST) -> str | None:
        kind = type(node)
        if kind not in self.allowed:
            if kind in STATEMENT_NODES:
                return "表达式中只能有一个值，不能有语句"
            name = _NODE_NAMES.get(kind, kind.__name__)
            return f"不允许使用 {name}"
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                return f"不允许使用以下划线开头的名称 {node.id}"
            if isinstance(node.ctx, ast.Store) and node.id in BUILTINS:
                return f"不能给系统函数名 {node.id} 赋值"
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                return f"不允许访问内部属性 {node.attr}"
            if node.attr not in METHOD_NAMES:
                return f"不允许访问属性 {node.attr}（只允许 {', '.join(sorted(METHOD_NAMES))}）"
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                if node.func.id not in BUILTINS and node.func.id not in _HELPER_NAMES:
                    return f"只能调用系统提供的函数，不能调用 {node.func.id}"
            elif not isinstance(node.func, ast.Attribute):
                return "只能直接调用系统提供的函数或方法"
            if any(k.arg is None for k in node.keywords):
                return "不允许使用 **"
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, str | int | float | bool | type(None)):
                return f"不允许的常量类型 {type(node.value).__name__}"
            if isinstance(node.value, str) and len(node.value) > MAX_TEXT:
                return "文本常量过长"
            if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
                return "整数常量过大"
        elif isinstance(node, ast.FormattedValue):
            spec = node.format_spec
            if spec is not None:
                parts = spec.values if isinstance(spec, ast.JoinedStr) else []
                if not (
                    len(parts) == 1
                    and isinstance(parts[0], ast.Constant)
                    and isinstance(parts[0].value, str)
                    and _FORMAT_SPEC.fullmatch(parts[0].value)
                ):
                    return "f-string 的格式说明只能是简单的常量（如 :.2f、:>10）"
        elif isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                return "不允许使用 **"
        elif isinstance(node, ast.comprehension):
            if node.is_async:
                return "不允许使用 async"
            if not _plain_target(node.target):
                return "推导式的循环变量只能是名称"
        elif isinstance(node, ast.Assign):
            if not all(_plain_target(t) for t in node.targets):
                return "只能给名称赋值"
        elif isinstance(node, ast.AugAssign):
            if not isinstance(node.target, ast.Name) or type(node.op) not in OPERATORS:
                return "只能对名称做 += 之类的运算赋值"
        elif isinstance(node, ast.For):
            if not _plain_target(node.target):
                return "for 的循环变量只能是名称"
        return None


def _plain_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, ast.Tuple | ast.List) and all(isinstance(t, ast.Name) for t in target.elts)


# Our helpers' names (the engine supplies them; the checker needs only the names to allow the call).
_HELPER_NAMES: frozenset[str] = frozenset({"working_days_later", "meets_ratio"})


# -- sizes ---------------------------------------------------------------------------------------------------


def _check_size(value: Any, limit: int, what: str) -> None:
    """Characters of text plus items of containers, counted until the limit (shared references count each
    time they appear: that is what printing or storing the value costs)."""
    budget = limit
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item)
        elif isinstance(item, dict):
            budget -= len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            budget -= len(item)
            stack.extend(item)
        else:
            budget -= 1
        if budget < 0:
            raise ExpressionError(f"{what}过大（超过 {limit} 的上限）")


# What task data may hold: JSON values, and the types the library's serializer restores (dates, UUIDs).
DATA_TYPES: frozenset[type] = frozenset(
    {type(None), bool, int, float, str, list, tuple, dict, set, frozenset, datetime, date, timedelta, Decimal, UUID}
)


def _check_data(value: Any) -> None:
    """What a script stores or an expression returns: plain data of a bounded size (no function, iterator or
    other object)."""
    _check_size(value, MAX_VALUE_SIZE, "计算结果")
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) not in DATA_TYPES and not isinstance(item, UUID):  # the engine's ids subclass UUID
            raise ExpressionError(f"计算结果只能是数据，不能是 {type(item).__name__}")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)


# -- evaluation ------------------------------------------------------------------------------------------------


class _Evaluator(simpleeval.EvalWithCompoundTypes):  # type: ignore[misc]
    """simpleeval's evaluator reduced to our node set, with a time limit and bounded f-strings; one per thread
    (simpleeval keeps per-evaluation state on the instance)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(operators=dict(OPERATORS), functions=dict(functions), names={}, allowed_attrs=METHODS)
        self.nodes = {kind: handler for kind, handler in self.nodes.items() if kind in EXPRESSION_NODES}
        self.nodes[ast.FormattedValue] = self._formatted
        self.ATTR_INDEX_FALLBACK = False  # `d.key` is not d["key"]
        self.names = _IDLE
        self._deadline = 0.0
        self._ticks = 0
        self._iterations = 0

    def start(self, names: Mapping[str, Any]) -> None:
        self.names = names
        self._deadline = time.monotonic() + TIME_LIMIT
        self._ticks = self._iterations = self._max_count = 0

    def _eval(self, node: ast.AST) -> Any:
        self._ticks += 1
        if not self._ticks & 0xFF and time.monotonic() > self._deadline:
            raise ExpressionError(f"表达式计算超过 {TIME_LIMIT:g} 秒的时限")
        return super()._eval(node)

    def _check_disallowed_items(self, item: Any) -> None:
        # simpleeval walks every intermediate container on every node (a time bomb with shared references:
        # [[1] * 9000] * 9000 took 7 s). Our allowlist never lets a module or a forbidden function become a
        # value (names are data and FUNCTIONS; attributes are METHODS on exact types); final results and
        # what scripts store are checked by _check_data, which stops at the size bound.
        return None

    def _eval_name(self, node: ast.Name) -> Any:
        try:
            return super()._eval_name(node)
        except simpleeval.NameNotDefined:
            raise NameError(f"name '{node.id}' is not defined", name=node.id) from None

    def _formatted(self, node: ast.FormattedValue) -> str:
        value = self._eval(node.value)
        _check_size(value, MAX_TEXT, "文本")
        if node.conversion == ord("r"):
            value = repr(value)
        elif node.conversion == ord("a"):
            value = ascii(value)
        spec = node.format_spec.values[0].value if isinstance(node.format_spec, ast.JoinedStr) else ""  # type: ignore[attr-defined]
        return format(value, spec)

    # scripts

    def run(self, statements: list[ast.stmt], store: MutableMapping[str, Any]) -> None:
        for statement in statements:
            kind = type(statement)
            if kind is ast.Assign:
                value = self._eval(statement.value)  # type: ignore[attr-defined]
                for target in statement.targets:  # type: ignore[attr-defined]
                    self._assign(target, value, store)
            elif kind is ast.AugAssign:
                name = statement.target.id  # type: ignore[attr-defined]
                current = self._eval(ast.Name(id=name, ctx=ast.Load()))
                value = self.operators[type(statement.op)](current, self._eval(statement.value))  # type: ignore[attr-defined]
                self._assign(statement.target, value, store)  # type: ignore[attr-defined]
            elif kind is ast.If:
                branch = statement.body if self._eval(statement.test) else statement.orelse  # type: ignore[attr-defined]
                self.run(branch, store)
            elif kind is ast.For:
                for item in self._eval(statement.iter):  # type: ignore[attr-defined]
                    self._iterations += 1
                    if self._iterations > MAX_ITEMS:
                        raise ExpressionError(f"循环次数超过 {MAX_ITEMS} 次的上限")
                    self._assign(statement.target, item, store)  # type: ignore[attr-defined]
                    self.run(statement.body, store)  # type: ignore[attr-defined]
                else:
                    self.run(statement.orelse, store)  # type: ignore[attr-defined]
            elif kind is ast.Expr:
                self._eval(statement.value)  # type: ignore[attr-defined]
            # ast.Pass: nothing

    def _assign(self, target: ast.AST, value: Any, store: MutableMapping[str, Any]) -> None:
        if isinstance(target, ast.Name):
            _check_data(value)
            store[target.id] = value
            return
        items = list(value) if isinstance(value, list | tuple) else None
        elts = target.elts  # type: ignore[attr-defined]
        if items is None or len(items) != len(elts):
            raise ExpressionError("赋值两边的个数不一致")
        for element, item in zip(elts, items, strict=True):
            self._assign(element, item, store)


class Sandbox:
    """Evaluates checked diagram text with the given helpers. Safe to share across threads."""

    def __init__(self, helpers: Mapping[str, Callable[..., Any]]) -> None:
        unknown = set(helpers) - _HELPER_NAMES
        if unknown:
            raise ValueError(f"helpers not in the checker's allowlist: {sorted(unknown)}")
        self._functions = {**BUILTINS, **helpers}
        self._local = threading.local()

    def _evaluator(self) -> _Evaluator:
        evaluator: _Evaluator | None = getattr(self._local, "evaluator", None)
        if evaluator is None or evaluator.names is not _IDLE:  # a nested call (a helper evaluating) gets its own
            evaluator = _Evaluator(self._functions)
            self._local.evaluator = evaluator
        return evaluator

    def evaluate(self, text: str, names: Mapping[str, Any]) -> Any:
        tree = _tree(text, script=False)
        evaluator = self._evaluator()
        evaluator.start(names)
        try:
            result = evaluator._eval(tree.body)  # type: ignore[attr-defined]
        except simpleeval.InvalidExpression as exc:  # a bound simpleeval keeps (comprehension length, + and *)
            raise ExpressionError(f"表达式超出计算限制：{exc}") from None
        finally:
            evaluator.names = _IDLE
        _check_data(result)
        return result

    def execute(self, text: str, data: MutableMapping[str, Any], external: Mapping[str, Any] | None = None) -> None:
        """Run a script: assignments write to `data` (the task's data); `external` is read-only."""
        tree = _tree(text, script=True)
        evaluator = self._evaluator()
        names: MutableMapping[str, Any] = ChainMap(data, dict(external)) if external else data
        evaluator.start(names)
        try:
            evaluator.run(tree.body, data)  # type: ignore[attr-defined]
        except simpleeval.InvalidExpression as exc:
            raise ExpressionError(f"脚本超出计算限制：{exc}") from None
        finally:
            evaluator.names = _IDLE


_IDLE: Mapping[str, Any] = {}


def _tree(text: str, *, script: bool) -> ast.AST:
    try:
        return _accepted(normalize(text, script=script), script)
    except _Refused as refused:
        first = refused.refusals[0]
        where = f"第 {first.line} 行：" if first.line and script else ""
        raise ExpressionError(f"流程中的表达式被拒绝执行（{where}{first.message}）：{_excerpt(text)}") from None


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = ["BUILTINS", "METHODS", "ExpressionError", "Refusal", "Sandbox", "check"]
