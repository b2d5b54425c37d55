// Type declarations for the bpmn-io packages the designer uses that ship none (only what we call).
declare module "bpmn-moddle" {
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>, options?: Record<string, unknown>);
  }
}

declare module "bpmn-js-properties-panel" {
  export const BpmnPropertiesPanelModule: Record<string, unknown>;
  export const BpmnPropertiesProviderModule: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  export function useService(name: string, strict?: boolean): any;
}

declare module "@bpmn-io/properties-panel" {
  // the entry components (preact function components) and their isEdited helpers
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Component = import("@bpmn-io/properties-panel/preact").FunctionComponent<any>;
  export const CheckboxEntry: Component;
  export const Group: Component;
  export const NumberFieldEntry: Component;
  export const SelectEntry: Component;
  export const TextAreaEntry: Component;
  export const TextFieldEntry: Component;
  export function isCheckboxEntryEdited(node: unknown): boolean;
  export function isNumberFieldEntryEdited(node: unknown): boolean;
  export function isSelectEntryEdited(node: unknown): boolean;
  export function isTextAreaEntryEdited(node: unknown): boolean;
  export function isTextFieldEntryEdited(node: unknown): boolean;
}

declare module "bpmn-js-bpmnlint" {
  const lintModule: Record<string, unknown>;
  export default lintModule;
}

declare module "bpmnlint/rules/*" {
  const rule: (config?: unknown) => {
    check: ((node: unknown, reporter: { report(id: string, message: string, path?: unknown): void }) => void) | object;
  };
  export default rule;
}

declare module "bpmn-js-differ" {
  export function diff(a: unknown, b: unknown): {
    _added: Record<string, unknown>;
    _removed: Record<string, unknown>;
    _changed: Record<string, unknown>;
    _layoutChanged: Record<string, unknown>;
  };
}

declare module "dmn-js/lib/Viewer" {
  export default class DmnViewer {
    constructor(options: { container: HTMLElement; common?: Record<string, unknown> } & Record<string, unknown>);
    importXML(xml: string): Promise<{ warnings: unknown[] }>;
    getViews(): { type: string; element: { id: string; name?: string } }[];
    open(view: { type: string; element: { id: string; name?: string } }): Promise<unknown>;
    destroy(): void;
  }
}

declare module "bpmnlint" {
  export class Linter {
    constructor(options: { config: unknown; resolver: unknown });
    lint(definitions: unknown): Promise<Record<string, { id: string; message: string; category: string }[]>>;
  }
}
