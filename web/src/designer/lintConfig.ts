// bpmnlint in the browser: its generic rules, checked as the designer edits (bpmn-js-bpmnlint). There is no
// bundler loader for `.bpmnlintrc` here, so the config is this module: the rule modules imported statically and a
// resolver that hands them out. What the review service itself requires (roles, forms, messages, timers, the
// sandboxed expressions) is the server's validation, not duplicated here.
import adHocSubProcess from "bpmnlint/rules/ad-hoc-sub-process";
import conditionalFlows from "bpmnlint/rules/conditional-flows";
import endEventRequired from "bpmnlint/rules/end-event-required";
import eventBasedGateway from "bpmnlint/rules/event-based-gateway";
import fakeJoin from "bpmnlint/rules/fake-join";
import noBpmndi from "bpmnlint/rules/no-bpmndi";
import noComplexGateway from "bpmnlint/rules/no-complex-gateway";
import noDisconnected from "bpmnlint/rules/no-disconnected";
import noDuplicateSequenceFlows from "bpmnlint/rules/no-duplicate-sequence-flows";
import noGatewayJoinFork from "bpmnlint/rules/no-gateway-join-fork";
import noImplicitEnd from "bpmnlint/rules/no-implicit-end";
import noImplicitSplit from "bpmnlint/rules/no-implicit-split";
import noImplicitStart from "bpmnlint/rules/no-implicit-start";
import noOverlappingElements from "bpmnlint/rules/no-overlapping-elements";
import singleBlankStartEvent from "bpmnlint/rules/single-blank-start-event";
import singleEventDefinition from "bpmnlint/rules/single-event-definition";
import startEventRequired from "bpmnlint/rules/start-event-required";
import superfluousGateway from "bpmnlint/rules/superfluous-gateway";

type Category = "error" | "warn" | "info" | "off";

interface Reporter {
  report(id: string, message: string, path?: unknown): void;
}
interface Rule {
  check: ((node: unknown, reporter: Reporter) => void) | { enter?: unknown; leave?: unknown };
  [key: string]: unknown;
}
type RuleFactory = (config?: unknown) => Rule;

// generic rules that hold for our processes; label-required is off: our conditional flows and joins are
// unnamed by design, and a name is nothing the review service reads
export const RULES: Record<string, [RuleFactory, Category]> = {
  "ad-hoc-sub-process": [adHocSubProcess, "error"],
  "conditional-flows": [conditionalFlows, "error"],
  "end-event-required": [endEventRequired, "error"],
  "event-based-gateway": [eventBasedGateway, "error"],
  "fake-join": [fakeJoin, "warn"],
  "no-bpmndi": [noBpmndi, "error"],
  "no-complex-gateway": [noComplexGateway, "error"],
  "no-disconnected": [noDisconnected, "error"],
  "no-duplicate-sequence-flows": [noDuplicateSequenceFlows, "error"],
  "no-gateway-join-fork": [noGatewayJoinFork, "warn"],
  "no-implicit-end": [noImplicitEnd, "error"],
  "no-implicit-split": [noImplicitSplit, "error"],
  "no-implicit-start": [noImplicitStart, "error"],
  "no-overlapping-elements": [noOverlappingElements, "warn"],
  "single-blank-start-event": [singleBlankStartEvent, "error"],
  "single-event-definition": [singleEventDefinition, "error"],
  "start-event-required": [startEventRequired, "error"],
  "superfluous-gateway": [superfluousGateway, "warn"],
};

const TYPES: Record<string, string> = {
  Process: "流程",
  SubProcess: "子流程",
  "bpmn:ComplexGateway": "复杂网关",
  "bpmn:InclusiveGateway": "包容网关",
};

// the rules' English messages, in the users' language (`<...>` parts are element types)
const MESSAGES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^Element is missing bpmndi$/, () => "元素没有图形信息"],
  [/^Element is outside of parent boundary$/, () => "元素超出了所在容器的边界"],
  [/^Element overlaps with other element$/, () => "元素与其他元素重叠"],
  [/must not be conditional$/, () => "事件网关的出口连线不能带条件"],
  [/^Sequence flow is missing condition$/, () => "连线缺少条件（或将其设为默认连线）"],
  [/is not allowed in <Ad Hoc Sub Process>$/, () => "自由子流程中不允许开始或结束事件"],
  [/^Start event is missing event definition$/, () => "开始事件缺少事件类型"],
  [/^Start event must be blank$/, () => "开始事件必须是空白开始事件"],
  [/must have at least 2 outgoing/, () => "事件网关至少需要两条出口连线"],
  [/^Element is an implicit end$/, () => "元素没有出口连线，流程在此隐式结束（应连到结束事件）"],
  [/^Element is an implicit start$/, () => "元素没有入口连线，流程在此隐式开始（应从开始事件连入）"],
  [/^Element is not connected$/, () => "元素没有任何连线"],
  [/^Element type <(.+)> is discouraged$/, (m) => `不建议使用${TYPES[m[1]] ?? m[1]}`],
  [/^Event has multiple event definitions$/, () => "一个事件只能有一种事件类型"],
  [/^Flow splits implicitly$/, () => "从任务直接分出多条连线（应使用网关分支）"],
  [/^Gateway forks and joins$/, () => "网关同时合并和分支（应拆成两个网关）"],
  [/^Gateway is superfluous/, () => "网关多余：只有一条入口和一条出口"],
  [/^Incoming flows do not join$/, () => "多条入口连线未经网关合并"],
  [/^SequenceFlow is a duplicate$/, () => "重复的连线"],
  [/^Duplicate outgoing sequence flows$/, () => "有重复的出口连线"],
  [/^Duplicate incoming sequence flows$/, () => "有重复的入口连线"],
  [/^(\w+) has multiple blank start events$/, (m) => `${TYPES[m[1]] ?? m[1]}有多个空白开始事件`],
  [/^(\w+) is missing end event$/, (m) => `${TYPES[m[1]] ?? m[1]}缺少结束事件`],
  [/^(\w+) is missing start event$/, (m) => `${TYPES[m[1]] ?? m[1]}缺少开始事件`],
];

export function chineseMessage(message: string): string {
  for (const [pattern, say] of MESSAGES) {
    const match = message.match(pattern);
    if (match) return say(match);
  }
  return message;
}

/** The rule with its reports in Chinese; the rule's own state stays per linter run, as bpmnlint creates it. */
function inChinese(factory: RuleFactory): RuleFactory {
  return (config) => {
    const rule = factory(config);
    const wrap = (reporter: Reporter): Reporter => {
      const translated = Object.create(reporter) as Reporter;
      translated.report = (id, message, path) => reporter.report(id, chineseMessage(message), path);
      return translated;
    };
    const { check } = rule;
    if (typeof check === "function") return { ...rule, check: (node, reporter) => check(node, wrap(reporter)) };
    const hooks = check as Record<string, (node: unknown, reporter: Reporter) => void>;
    const wrapped = Object.fromEntries(
      Object.entries(hooks).map(([hook, fn]) => [hook, (node: unknown, reporter: Reporter) => fn(node, wrap(reporter))]),
    );
    return { ...rule, check: wrapped };
  };
}

/** The packed config bpmn-js-bpmnlint and bpmnlint's Linter take: `{ config, resolver }`. */
export const bpmnlintConfig = {
  config: { rules: Object.fromEntries(Object.entries(RULES).map(([name, [, category]]) => [name, category])) },
  resolver: {
    resolveRule(pkg: string, ruleName: string): RuleFactory {
      const found = RULES[ruleName];
      if (pkg !== "bpmnlint" || !found) throw new Error(`unknown rule <${pkg}/${ruleName}>`);
      return inChinese(found[0]);
    },
    resolveConfig(pkg: string, configName: string): never {
      throw new Error(`unknown config <${pkg}/${configName}>`);
    },
  },
};

/** bpmn-js-bpmnlint's `linting` option: our rules, overlays on from the start. */
export const lintingConfig = { bpmnlint: bpmnlintConfig, active: true };
