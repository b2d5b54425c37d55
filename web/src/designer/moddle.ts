// Reading and writing a diagram outside a modeler (the visual diff, the layout step, the tests): bpmn-moddle with
// our spiffworkflow descriptor, and the few moddle shapes this code relies on.
import { BpmnModdle } from "bpmn-moddle";

import { moddleExtensions } from "./spiffModdle";

/** A moddle element, as bpmn-moddle and bpmn-js's business objects are. */
export interface ModdleElement {
  $type: string;
  $parent?: ModdleElement;
  id?: string;
  name?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  $instanceOf(type: string): boolean;
}

export interface Moddle {
  create(type: string, attrs?: Record<string, unknown>): ModdleElement;
  fromXML(xml: string, type?: string): Promise<{ rootElement: ModdleElement; warnings: unknown[] }>;
  toXML(element: ModdleElement, options?: { format?: boolean }): Promise<{ xml: string }>;
}

export function createModdle(): Moddle {
  return new BpmnModdle(moddleExtensions) as unknown as Moddle;
}

export function is(element: ModdleElement | undefined | null, type: string): boolean {
  return !!element && typeof element.$instanceOf === "function" && element.$instanceOf(type);
}

/** The first executable (else any) process of the definitions. */
export function mainProcess(definitions: ModdleElement): ModdleElement | undefined {
  const processes = ((definitions.rootElements ?? []) as ModdleElement[]).filter((e) => is(e, "bpmn:Process"));
  return processes.find((p) => p.isExecutable) ?? processes[0];
}
