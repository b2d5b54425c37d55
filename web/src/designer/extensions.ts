// Reading and changing what the review service reads on an element: the user task's spiffworkflow:property
// values, a message event's payload and variable, a timer's working days. Changes are returned as commands for the
// properties panel's multi-command executor, so one edit is one undo step.
import { is, type ModdleElement } from "./moddle";

export interface Factory {
  create(type: string, attrs?: Record<string, unknown>): ModdleElement;
}

export interface Command {
  cmd: "element.updateModdleProperties";
  context: { element: unknown; moddleElement: ModdleElement; properties: Record<string, unknown> };
}

function created(factory: Factory, type: string, attrs: Record<string, unknown>, parent: ModdleElement): ModdleElement {
  const element = factory.create(type, attrs);
  element.$parent = parent;
  return element;
}

function update(element: unknown, moddleElement: ModdleElement, properties: Record<string, unknown>): Command {
  return { cmd: "element.updateModdleProperties", context: { element, moddleElement, properties } };
}

export function extensionOf(bo: ModdleElement, type: string): ModdleElement | undefined {
  const values = (bo.extensionElements?.values ?? []) as ModdleElement[];
  return values.find((v) => is(v, type));
}

/** The extension element of `type` on `bo`, created (with the commands that add it) when missing. */
function ensureExtension(
  element: unknown,
  bo: ModdleElement,
  type: string,
  factory: Factory,
  commands: Command[],
  attrs: Record<string, unknown> = {},
): ModdleElement {
  let extensions = bo.extensionElements as ModdleElement | undefined;
  if (!extensions) {
    extensions = created(factory, "bpmn:ExtensionElements", { values: [] }, bo);
    commands.push(update(element, bo, { extensionElements: extensions }));
  }
  let found = extensionOf(bo, type);
  if (!found) {
    found = created(factory, type, attrs, extensions);
    commands.push(update(element, extensions, { values: [...(extensions.get("values") as ModdleElement[]), found] }));
  }
  return found;
}

// -- spiffworkflow:properties (formKey, decisions, stage, scope, dueIn, assignee, decisionVariable) ------------

export function spiffProperty(bo: ModdleElement, name: string): string {
  const properties = extensionOf(bo, "spiffworkflow:Properties");
  const found = ((properties?.properties ?? []) as ModdleElement[]).find((p) => p.name === name);
  return (found?.value as string | undefined) ?? "";
}

/** Commands that set the property `name` (an empty value removes it, and an emptied list its container). */
export function setSpiffProperty(
  element: unknown,
  bo: ModdleElement,
  name: string,
  value: string,
  factory: Factory,
): Command[] {
  const commands: Command[] = [];
  const existing = extensionOf(bo, "spiffworkflow:Properties");
  const list = ((existing?.properties ?? []) as ModdleElement[]).slice();
  const found = list.find((p) => p.name === name);
  if (!value) {
    if (!existing || !found) return [];
    const rest = list.filter((p) => p !== found);
    if (rest.length) return [update(element, existing, { properties: rest })];
    const extensions = bo.extensionElements as ModdleElement;
    const values = (extensions.get("values") as ModdleElement[]).filter((v) => v !== existing);
    return [update(element, extensions, { values })];
  }
  if (found) return found.value === value ? [] : [update(element, found, { value })];
  const properties = ensureExtension(element, bo, "spiffworkflow:Properties", factory, commands, { properties: [] });
  const property = created(factory, "spiffworkflow:Property", { name, value }, properties);
  commands.push(update(element, properties, { properties: [...(properties.get("properties") as ModdleElement[]), property] }));
  return commands;
}

/** `decisions` as the review service reads it: comma-separated, in the order approve, return, reject. */
export function toggleDecision(current: string, decision: string, on: boolean, order: string[]): string {
  const set = new Set(current.split(",").map((d) => d.trim()).filter(Boolean));
  if (on) set.add(decision);
  else set.delete(decision);
  const known = order.filter((d) => set.has(d));
  const unknown = [...set].filter((d) => !order.includes(d)); // kept: the validation names them
  return [...known, ...unknown].join(",");
}

/** `scope` is "type:variable"; a type alone defaults its variable to the usual one. */
export function splitScope(scope: string): [string, string] {
  const at = scope.indexOf(":");
  return at < 0 ? [scope, ""] : [scope.slice(0, at), scope.slice(at + 1)];
}

export function joinScope(type: string, variable: string): string {
  if (!type) return "";
  return `${type}:${variable || (type === "region" ? "authority_region" : `${type}_id`)}`;
}

// -- body-text extensions on a message event definition (messagePayload, messageVariable) ----------------------

export function bodyExtension(bo: ModdleElement | undefined, type: string): string {
  return bo ? ((extensionOf(bo, type)?.value as string | undefined) ?? "") : "";
}

export function setBodyExtension(
  element: unknown,
  bo: ModdleElement,
  type: string,
  value: string,
  factory: Factory,
): Command[] {
  const existing = extensionOf(bo, type);
  if (!value) {
    if (!existing) return [];
    const extensions = bo.extensionElements as ModdleElement;
    return [update(element, extensions, { values: (extensions.get("values") as ModdleElement[]).filter((v) => v !== existing) })];
  }
  if (existing) return [update(element, existing, { value })];
  const commands: Command[] = [];
  ensureExtension(element, bo, type, factory, commands, { value });
  return commands;
}

// -- timers in working days ----------------------------------------------------------------------------------

const WORKING_DAYS = /^\s*working_days_later\(\s*(\d+)\s*\)\s*$/;

/** The timer's expression (timeDate, else timeDuration / timeCycle), as the review service evaluates it. */
export function timerExpression(timer: ModdleElement): string {
  for (const kind of ["timeDate", "timeDuration", "timeCycle"]) {
    const body = (timer[kind] as ModdleElement | undefined)?.body as string | undefined;
    if (body) return body;
  }
  return "";
}

/** The working days of a `working_days_later(n)` timer, or null when it says something else. */
export function workingDays(expression: string): number | null {
  const match = expression.match(WORKING_DAYS);
  return match ? Number(match[1]) : null;
}

export function setWorkingDays(element: unknown, timer: ModdleElement, days: number | null, factory: Factory): Command[] {
  if (days === null) return [];
  const timeDate = created(factory, "bpmn:FormalExpression", { body: `working_days_later(${days})` }, timer);
  return [update(element, timer, { timeDate, timeDuration: undefined, timeCycle: undefined })];
}

// -- messages ------------------------------------------------------------------------------------------------

/** The definitions' bpmn:Message named `name`, or the commands that create one (with a free id). */
export function messageNamed(
  element: unknown,
  definitions: ModdleElement,
  name: string,
  factory: Factory,
  commands: Command[],
): ModdleElement {
  const roots = (definitions.get("rootElements") as ModdleElement[]) ?? [];
  const found = roots.find((r) => is(r, "bpmn:Message") && r.name === name);
  if (found) return found;
  const ids = new Set(roots.map((r) => r.id));
  let id = `m_${name}`;
  for (let i = 2; ids.has(id); i++) id = `m_${name}_${i}`;
  const message = created(factory, "bpmn:Message", { id, name }, definitions);
  commands.push(update(element, definitions, { rootElements: [...roots, message] }));
  return message;
}

/** Whether a message event waits for its message (else it throws one). */
export function catchesMessage(bo: ModdleElement): boolean {
  return is(bo, "bpmn:CatchEvent");
}
