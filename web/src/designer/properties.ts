// The properties panel for what the review service reads (bpmn/README.md "What the review service reads"): a lane's
// role, a user task's form, decisions, stage, scope, due days, assignee and decision variable, a timer in working
// days, a message by its known name and its payload, a flow's condition, a script. Values come from the server's
// vocabulary (GET /api/review/definitions/vocabulary), so a select offers only what the validation accepts. Stock
// groups that edit something SpiffWorkflow reads differently (timer, message, multi-instance) are replaced.
import {
  CheckboxEntry,
  Group,
  isCheckboxEntryEdited,
  isNumberFieldEntryEdited,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
  NumberFieldEntry,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
} from "@bpmn-io/properties-panel";
import { h } from "@bpmn-io/properties-panel/preact";
import { useService } from "bpmn-js-properties-panel";

import {
  bodyExtension,
  catchesMessage,
  type Command,
  joinScope,
  messageNamed,
  setBodyExtension,
  setSpiffProperty,
  setWorkingDays,
  splitScope,
  spiffProperty,
  timerExpression,
  toggleDecision,
  workingDays,
} from "./extensions";
import { is, type ModdleElement } from "./moddle";

export interface Option {
  value: string;
  label: string;
}

export interface Vocabulary {
  roles: Option[];
  stages: Option[];
  decisions: Option[];
  scope_types: Option[];
  inbound_messages: Option[];
  outbound_messages: Option[];
  forms: Option[];
}

interface Shape {
  id: string;
  type: string;
  businessObject: ModdleElement;
}

interface Entry {
  id: string;
  element: Shape;
  component: (props: { element: Shape; id: string }) => unknown;
  isEdited?: (node: unknown) => boolean;
}

interface PanelGroup {
  id: string;
  label: string;
  entries: Entry[];
  component?: unknown;
}

const FORM_KEY = /^[a-z][a-z0-9_]*$/;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The panel's services a component uses to change the diagram (one command = one undo step). */
function useChange() {
  const commandStack = useService("commandStack");
  const factory = useService("bpmnFactory");
  return {
    factory,
    run(commands: Command[]) {
      if (commands.length) commandStack.execute("properties-panel.multi-command-executor", commands);
    },
  };
}

function withCurrent(options: Option[], current: string, none: string): Option[] {
  const listed = options.map((o) => ({ value: o.value, label: `${o.label}（${o.value}）` }));
  const unknown = current && !options.some((o) => o.value === current);
  return [
    { value: "", label: none },
    ...(unknown ? [{ value: current, label: `${current}（不是可选值）` }] : []),
    ...listed,
  ];
}

// -- lanes ---------------------------------------------------------------------------------------------------

function laneRole(vocabulary: Vocabulary) {
  return function LaneRole({ element, id }: { element: Shape; id: string }) {
    const modeling = useService("modeling");
    return h(SelectEntry, {
      element,
      id,
      label: "办理角色（泳道名称）",
      description: "泳道即角色：持有该角色且在办理范围内的人员看到本泳道的任务",
      getValue: () => element.businessObject.name ?? "",
      setValue: (value: string) => modeling.updateProperties(element, { name: value }),
      getOptions: () => withCurrent(vocabulary.roles, element.businessObject.name ?? "", "（未指定）"),
    });
  };
}

// -- user tasks ----------------------------------------------------------------------------------------------

function propertyText(name: string, label: string, description: string, pattern: RegExp, required = false) {
  return function PropertyText({ element, id }: { element: Shape; id: string }) {
    const { factory, run } = useChange();
    const debounce = useService("debounceInput");
    return h(TextFieldEntry, {
      element,
      id,
      label,
      description,
      debounce,
      getValue: () => spiffProperty(element.businessObject, name),
      setValue: (value: string) =>
        run(setSpiffProperty(element, element.businessObject, name, (value ?? "").trim(), factory)),
      validate: (value: string) => {
        if (!value) return required ? "必填" : null;
        return pattern.test(value.trim()) ? null : "只能包含字母、数字和下划线，且不以数字开头";
      },
    });
  };
}

function decisionToggle(option: Option, order: string[]) {
  return function DecisionToggle({ element, id }: { element: Shape; id: string }) {
    const { factory, run } = useChange();
    const current = () => spiffProperty(element.businessObject, "decisions");
    return h(CheckboxEntry, {
      element,
      id,
      label: `可选结论：${option.label}`,
      getValue: () => current().split(",").map((d) => d.trim()).includes(option.value),
      setValue: (on: boolean) =>
        run(
          setSpiffProperty(element, element.businessObject, "decisions", toggleDecision(current(), option.value, on, order), factory),
        ),
    });
  };
}

function propertySelect(name: string, label: string, options: Option[], description?: string) {
  return function PropertySelect({ element, id }: { element: Shape; id: string }) {
    const { factory, run } = useChange();
    return h(SelectEntry, {
      element,
      id,
      label,
      description,
      getValue: () => spiffProperty(element.businessObject, name),
      setValue: (value: string) => run(setSpiffProperty(element, element.businessObject, name, value, factory)),
      getOptions: () => withCurrent(options, spiffProperty(element.businessObject, name), "（无）"),
    });
  };
}

function scopeType(options: Option[]) {
  return function ScopeType({ element, id }: { element: Shape; id: string }) {
    const { factory, run } = useChange();
    const [type, variable] = splitScope(spiffProperty(element.businessObject, "scope"));
    return h(SelectEntry, {
      element,
      id,
      label: "办理范围类型",
      description: "只有该范围内的审核人员看到任务（如本单位、本主管部门、本评委会）",
      getValue: () => type,
      setValue: (value: string) =>
        run(setSpiffProperty(element, element.businessObject, "scope", joinScope(value, variable), factory)),
      getOptions: () => withCurrent(options, type, "（不限范围）"),
    });
  };
}

function ScopeVariable({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  const [type, variable] = splitScope(spiffProperty(element.businessObject, "scope"));
  return h(TextFieldEntry, {
    element,
    id,
    label: "办理范围变量",
    description: "保存该范围标识的流程变量，如 unit_id、department_id、committee_id",
    debounce,
    disabled: !type,
    getValue: () => variable,
    setValue: (value: string) =>
      run(setSpiffProperty(element, element.businessObject, "scope", joinScope(type, (value ?? "").trim()), factory)),
    validate: (value: string) => (!value || VARIABLE.test(value.trim()) ? null : "变量名只能包含字母、数字和下划线"),
  });
}

function DueIn({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  return h(NumberFieldEntry, {
    element,
    id,
    label: "办理期限（工作日）",
    description: "任务到达后多少个工作日内办理，显示为办理期限；留空则不设期限",
    debounce,
    min: 1,
    max: 365,
    step: 1,
    getValue: () => spiffProperty(element.businessObject, "dueIn"),
    setValue: (value: number | string | undefined) => {
      const text = value === undefined || value === null || value === "" ? "" : String(Math.trunc(Number(value)));
      run(setSpiffProperty(element, element.businessObject, "dueIn", text, factory));
    },
    validate: (value: string) => {
      if (value === undefined || value === null || value === "") return null;
      const n = Number(value);
      return Number.isInteger(n) && n >= 1 && n <= 365 ? null : "请输入 1 到 365 之间的整数";
    },
  });
}

type Component = Entry["component"];

interface Components {
  laneRole: Component;
  formKey: Component;
  decisions: [Option, Component][];
  stage: Component;
  scopeType: Component;
  assignee: Component;
  decisionVariable: Component;
  messageName: Component;
}

// made once per vocabulary: a new component function on every render would remount the inputs (losing focus)
const made = new WeakMap<Vocabulary, Components>();

function componentsFor(vocabulary: Vocabulary): Components {
  let found = made.get(vocabulary);
  if (!found) {
    const order = vocabulary.decisions.map((d) => d.value);
    const forms = vocabulary.forms.map((f) => `${f.value}（${f.label}）`).join("、");
    found = {
      laneRole: laneRole(vocabulary),
      formKey: propertyText("formKey", "表单（formKey）", `审核页面使用的表单；带填写字段的有：${forms}`, FORM_KEY, true),
      decisions: vocabulary.decisions.map((option) => [option, decisionToggle(option, order)]),
      stage: propertySelect("stage", "环节（stage）", vocabulary.stages, "进入新环节时通知申报人（审核进度）"),
      scopeType: scopeType(vocabulary.scope_types),
      assignee: propertyText(
        "assignee",
        "指定办理人变量（assignee）",
        "其值为唯一办理人的用户标识，如多实例中的 expert",
        VARIABLE,
      ),
      decisionVariable: propertyText(
        "decisionVariable",
        "结论收集变量（decisionVariable）",
        "多实例任务中每人的审核结论写入的变量，如 vote",
        VARIABLE,
      ),
      messageName: messageName(vocabulary),
    };
    made.set(vocabulary, found);
  }
  return found;
}

function userTaskEntries(element: Shape, c: Components): Entry[] {
  return [
    { id: "zc-formKey", element, component: c.formKey, isEdited: isTextFieldEntryEdited },
    ...c.decisions.map(([option, component]) => ({
      id: `zc-decision-${option.value}`,
      element,
      component,
      isEdited: isCheckboxEntryEdited,
    })),
    { id: "zc-stage", element, component: c.stage, isEdited: isSelectEntryEdited },
    { id: "zc-scopeType", element, component: c.scopeType, isEdited: isSelectEntryEdited },
    { id: "zc-scopeVariable", element, component: ScopeVariable, isEdited: isTextFieldEntryEdited },
    { id: "zc-dueIn", element, component: DueIn, isEdited: isNumberFieldEntryEdited },
    { id: "zc-assignee", element, component: c.assignee, isEdited: isTextFieldEntryEdited },
    { id: "zc-decisionVariable", element, component: c.decisionVariable, isEdited: isTextFieldEntryEdited },
  ];
}

// -- timers --------------------------------------------------------------------------------------------------

function timerOf(bo: ModdleElement): ModdleElement | undefined {
  return ((bo.eventDefinitions ?? []) as ModdleElement[]).find((d) => is(d, "bpmn:TimerEventDefinition"));
}

function TimerDays({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  const timer = timerOf(element.businessObject)!;
  return h(NumberFieldEntry, {
    element,
    id,
    label: "期限（工作日）",
    description: "从到达此处起算的工作日数（节假日与调休按省内日历）；期满之日 24:00（北京时间）触发",
    debounce,
    min: 1,
    max: 365,
    step: 1,
    getValue: () => workingDays(timerExpression(timer)) ?? "",
    setValue: (value: number | string | undefined) => {
      const n = Number(value);
      run(setWorkingDays(element, timer, Number.isInteger(n) && n >= 1 ? n : null, factory));
    },
    validate: (value: string) => {
      if (value === undefined || value === null || value === "") return null;
      const n = Number(value);
      return Number.isInteger(n) && n >= 1 && n <= 365 ? null : "请输入 1 到 365 之间的整数";
    },
  });
}

function TimerExpression({ element, id }: { element: Shape; id: string }) {
  const debounce = useService("debounceInput"); // the entry calls it even when disabled
  const timer = timerOf(element.businessObject)!;
  const expression = timerExpression(timer);
  return h(TextFieldEntry, {
    element,
    id,
    label: "定时表达式（只读）",
    description:
      workingDays(expression) === null
        ? "此定时不是固定的工作日数（如取流程变量中的截止时间），在此只读；填写上方工作日数将替换它"
        : "由上方工作日数生成",
    disabled: true,
    debounce,
    getValue: () => expression,
    setValue: () => undefined,
  });
}

// -- messages ------------------------------------------------------------------------------------------------

function messageDefinitionOf(bo: ModdleElement): ModdleElement | undefined {
  return ((bo.eventDefinitions ?? []) as ModdleElement[]).find((d) => is(d, "bpmn:MessageEventDefinition"));
}

function definitionsOf(bo: ModdleElement): ModdleElement {
  let node: ModdleElement = bo;
  while (node.$parent) node = node.$parent;
  return node;
}

function messageName(vocabulary: Vocabulary) {
  return function MessageName({ element, id }: { element: Shape; id: string }) {
    const { factory, run } = useChange();
    const bo = element.businessObject;
    const definition = messageDefinitionOf(bo)!;
    const options = catchesMessage(bo) ? vocabulary.inbound_messages : vocabulary.outbound_messages;
    const current = (definition.messageRef?.name as string | undefined) ?? "";
    return h(SelectEntry, {
      element,
      id,
      label: catchesMessage(bo) ? "等待的消息" : "发出的消息",
      description: catchesMessage(bo)
        ? "审核服务投递给流程的消息（申报人重新提交、撤回、公示异议）"
        : "流程发出、由其他服务处理的消息（退回、通过、不通过等）",
      getValue: () => current,
      setValue: (name: string) => {
        const commands: Command[] = [];
        const message = name ? messageNamed(element, definitionsOf(bo), name, factory, commands) : undefined;
        commands.push({
          cmd: "element.updateModdleProperties",
          context: { element, moddleElement: definition, properties: { messageRef: message } },
        });
        run(commands);
      },
      getOptions: () => withCurrent(options, current, "（未指定）"),
    });
  };
}

function MessagePayload({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  const definition = messageDefinitionOf(element.businessObject)!;
  return h(TextAreaEntry, {
    element,
    id,
    label: "消息内容（messagePayload）",
    description: '合并到流程变量后随消息发出的字典表达式，如 {"stage": stage, "reason": comment}',
    debounce,
    monospace: true,
    rows: 3,
    getValue: () => bodyExtension(definition, "spiffworkflow:MessagePayload"),
    setValue: (value: string) =>
      run(setBodyExtension(element, definition, "spiffworkflow:MessagePayload", (value ?? "").trim(), factory)),
  });
}

function MessageVariable({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  const definition = messageDefinitionOf(element.businessObject)!;
  return h(TextFieldEntry, {
    element,
    id,
    label: "消息内容写入变量（messageVariable）",
    description: "收到消息时，其内容保存到该流程变量",
    debounce,
    getValue: () => bodyExtension(definition, "spiffworkflow:MessageVariable"),
    setValue: (value: string) =>
      run(setBodyExtension(element, definition, "spiffworkflow:MessageVariable", (value ?? "").trim(), factory)),
    validate: (value: string) => (!value || VARIABLE.test(value.trim()) ? null : "变量名只能包含字母、数字和下划线"),
  });
}

// -- flows, scripts, decisions -------------------------------------------------------------------------------

function isDefaultFlow(bo: ModdleElement): boolean {
  return !!bo.sourceRef && bo.sourceRef.default === bo;
}

function Condition({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  const bo = element.businessObject;
  const defaultFlow = isDefaultFlow(bo);
  return h(TextAreaEntry, {
    element,
    id,
    label: "条件表达式",
    description: defaultFlow
      ? "默认连线：其他连线的条件都不满足时经过此线"
      : '如 decision == "return"；条件按目标元素在图中的上下位置依次判断，第一个成立的生效',
    debounce,
    monospace: true,
    rows: 2,
    disabled: defaultFlow,
    getValue: () => (bo.conditionExpression?.body as string | undefined) ?? "",
    setValue: (value: string) => {
      const text = (value ?? "").trim();
      const expression = text ? factory.create("bpmn:FormalExpression", { body: text }) : undefined;
      if (expression) expression.$parent = bo;
      run([
        {
          cmd: "element.updateModdleProperties",
          context: { element, moddleElement: bo, properties: { conditionExpression: expression } },
        },
      ]);
    },
  });
}

function Script({ element, id }: { element: Shape; id: string }) {
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  return h(TextAreaEntry, {
    element,
    id,
    label: "脚本",
    description: "在审核服务的受限环境中运行；含脚本任务的流程需系统管理员标记为可信后才能部署",
    debounce,
    monospace: true,
    rows: 4,
    getValue: () => (element.businessObject.script as string | undefined) ?? "",
    setValue: (value: string) => modeling.updateProperties(element, { script: value }),
  });
}

function CalledDecision({ element, id }: { element: Shape; id: string }) {
  const { factory, run } = useChange();
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id,
    label: "决策表标识（calledDecisionId）",
    description: "与流程一同部署的 DMN 决策表中 decision 的 id",
    debounce,
    getValue: () => bodyExtension(element.businessObject, "spiffworkflow:CalledDecisionId"),
    setValue: (value: string) =>
      run(
        setBodyExtension(element, element.businessObject, "spiffworkflow:CalledDecisionId", (value ?? "").trim(), factory),
      ),
  });
}

// -- the provider --------------------------------------------------------------------------------------------

function group(id: string, label: string, entries: Entry[]): PanelGroup {
  return { id, label, entries, component: Group };
}

export function reviewGroups(element: Shape, vocabulary: Vocabulary, groups: PanelGroup[]): PanelGroup[] {
  const bo = element.businessObject;
  const c = componentsFor(vocabulary);
  // stock groups SpiffWorkflow reads differently, replaced below
  let out = groups.filter((g) => !["timer", "message", "multiInstance"].includes(g.id));
  if (is(bo, "bpmn:Lane")) {
    out = out.map((g) =>
      g.id === "general"
        ? {
            ...g,
            entries: g.entries.map((e) =>
              e.id === "name" ? { id: "zc-laneRole", element, component: c.laneRole, isEdited: isSelectEntryEdited } : e,
            ),
          }
        : g,
    );
  }
  const added: PanelGroup[] = [];
  if (is(bo, "bpmn:UserTask")) added.push(group("zc-review", "审核设置", userTaskEntries(element, c)));
  if (timerOf(bo)) {
    added.push(
      group("zc-timer", "定时（工作日）", [
        { id: "zc-timerDays", element, component: TimerDays, isEdited: isNumberFieldEntryEdited },
        { id: "zc-timerExpression", element, component: TimerExpression },
      ]),
    );
  }
  if (messageDefinitionOf(bo)) {
    const entries: Entry[] = [
      { id: "zc-messageName", element, component: c.messageName, isEdited: isSelectEntryEdited },
    ];
    if (catchesMessage(bo)) {
      entries.push({ id: "zc-messageVariable", element, component: MessageVariable, isEdited: isTextFieldEntryEdited });
    } else {
      entries.push({ id: "zc-messagePayload", element, component: MessagePayload, isEdited: isTextAreaEntryEdited });
    }
    added.push(group("zc-message", "消息", entries));
  }
  if (is(bo, "bpmn:SequenceFlow") && is(bo.sourceRef, "bpmn:Gateway") && !is(bo.sourceRef, "bpmn:EventBasedGateway")) {
    added.push(group("zc-condition", "条件", [{ id: "zc-condition", element, component: Condition, isEdited: isTextAreaEntryEdited }]));
  }
  if (is(bo, "bpmn:ScriptTask")) {
    added.push(group("zc-script", "脚本", [{ id: "zc-script", element, component: Script, isEdited: isTextAreaEntryEdited }]));
  }
  if (is(bo, "bpmn:BusinessRuleTask")) {
    added.push(
      group("zc-decisionTable", "决策表", [
        { id: "zc-calledDecision", element, component: CalledDecision, isEdited: isTextFieldEntryEdited },
      ]),
    );
  }
  // ours right after 常规, before 说明
  const at = out.findIndex((g) => g.id === "general") + 1;
  return [...out.slice(0, at), ...added, ...out.slice(at)];
}

class ReviewPropertiesProvider {
  static $inject = ["propertiesPanel", "config.zcVocabulary"];

  constructor(
    propertiesPanel: { registerProvider(priority: number, provider: unknown): void },
    private vocabulary: Vocabulary,
  ) {
    propertiesPanel.registerProvider(500, this); // after the stock BPMN provider (1000), so it can replace groups
  }

  getGroups(element: Shape) {
    return (groups: PanelGroup[]) => reviewGroups(element, this.vocabulary, groups);
  }
}

export const reviewPropertiesModule = {
  __init__: ["reviewPropertiesProvider"],
  reviewPropertiesProvider: ["type", ReviewPropertiesProvider],
};
