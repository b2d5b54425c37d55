// The instance's diagram, ready for bpmn-js: laid out when the deployed file has no diagram interchange (the
// diagrams in bpmn/ are written by hand and have none), and which sequence flows the tokens took.
import { layoutProcess } from "bpmn-auto-layout";

const BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI";

export interface Drawable {
  xml: string;
  laidOut: boolean; // the layout is ours, not the designer's
}

/** The diagram as deployed, or laid out by bpmn-auto-layout when it has no shapes to draw. */
export async function drawable(xml: string): Promise<Drawable> {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new Error("流程文件不是合法的 XML");
  if (doc.getElementsByTagNameNS(BPMNDI, "BPMNShape").length) return { xml, laidOut: false };
  wireFlows(doc);
  return { xml: await layoutProcess(new XMLSerializer().serializeToString(doc)), laidOut: true };
}

/**
 * The layouter follows each node's `incoming` / `outgoing` references, which BPMN makes optional and our files
 * leave out (the engine reads `sourceRef` / `targetRef`): add them from the sequence flows.
 */
export function wireFlows(doc: Document): void {
  const byId = new Map<string, Element>();
  for (const el of Array.from(doc.getElementsByTagNameNS(BPMN, "*"))) {
    const id = el.getAttribute("id");
    if (id) byId.set(id, el);
  }
  const prefix = doc.documentElement.prefix;
  const named = (local: string): string => (prefix ? `${prefix}:${local}` : local);
  const has = (node: Element, local: string, flowId: string): boolean =>
    Array.from(node.children).some((c) => c.localName === local && c.textContent?.trim() === flowId);
  for (const flow of Array.from(doc.getElementsByTagNameNS(BPMN, "sequenceFlow"))) {
    const id = flow.getAttribute("id");
    if (!id) continue;
    for (const [ref, local] of [
      ["sourceRef", "outgoing"],
      ["targetRef", "incoming"],
    ] as const) {
      const node = byId.get(flow.getAttribute(ref) ?? "");
      if (!node || has(node, local, id)) continue;
      const link = doc.createElementNS(BPMN, named(local));
      link.textContent = id;
      node.appendChild(link);
    }
  }
}

export interface FlowRef {
  id: string;
  source: string;
  target: string;
}

/**
 * The flows the tokens took, as far as the elements tell: both ends passed, or from a passed element to where a
 * token waits now. An approximation where an element was reached along two routes (a loop back): both show.
 */
export function takenFlows(flows: FlowRef[], passed: string[], active: string[]): string[] {
  const done = new Set(passed);
  const reached = new Set([...passed, ...active]);
  return flows.filter((f) => done.has(f.source) && reached.has(f.target)).map((f) => f.id);
}
