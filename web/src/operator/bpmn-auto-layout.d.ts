// bpmn-auto-layout ships no types: its one function takes BPMN XML and returns it with diagram interchange.
declare module "bpmn-auto-layout" {
  export function layoutProcess(xml: string): Promise<string>;
}
