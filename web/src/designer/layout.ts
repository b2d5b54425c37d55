// Our diagrams in bpmn/ are written by hand and have no diagram interchange (no shapes, no coordinates): bpmn-js
// draws nothing without it. This lays a process out once, when it is opened: lanes as horizontal bands (a lane is a
// role, so the designer must be able to select it), flow nodes in columns by their longest path from the start,
// boundary events on their task's lower edge. The result is saved with the next deployment, after which the
// designer's own layout is kept. It also fills the flow nodes' incoming/outgoing references that hand-written XML
// leaves out (bpmnlint and the modeler read those; the engine does not).
import { createModdle, is, mainProcess, type Moddle, type ModdleElement } from "./moddle";

export const LANE_HEADER = 30;
const COLUMN = 150;
const ROW = 120;
const MARGIN = 40;
const SIZES: [string, number, number][] = [
  ["bpmn:Event", 36, 36],
  ["bpmn:Gateway", 50, 50],
  ["bpmn:SubProcess", 100, 80],
  ["bpmn:Activity", 100, 80],
];

interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

function sizeOf(node: ModdleElement): [number, number] {
  const found = SIZES.find(([type]) => is(node, type));
  return found ? [found[1], found[2]] : [100, 80];
}

function hasLayout(definitions: ModdleElement, process: ModdleElement): boolean {
  const diagrams = (definitions.diagrams ?? []) as ModdleElement[];
  return diagrams.some(
    (d) => d.plane?.bpmnElement === process && ((d.plane.planeElement ?? []) as ModdleElement[]).length > 0,
  );
}

/** Fill each flow node's incoming/outgoing from the sequence flows' source and target (idempotent). */
export function linkFlows(process: ModdleElement): void {
  for (const flow of (process.flowElements ?? []) as ModdleElement[]) {
    if (!is(flow, "bpmn:SequenceFlow")) continue;
    const source = flow.sourceRef as ModdleElement | undefined;
    const target = flow.targetRef as ModdleElement | undefined;
    if (source) {
      const outgoing = source.get("outgoing") as ModdleElement[];
      if (!outgoing.includes(flow)) outgoing.push(flow);
    }
    if (target) {
      const incoming = target.get("incoming") as ModdleElement[];
      if (!incoming.includes(flow)) incoming.push(flow);
    }
  }
}

/** Columns: the longest path from a start over the flows, ignoring the flows that loop back. */
export function columns(nodes: ModdleElement[], flows: ModdleElement[]): Map<ModdleElement, number> {
  const host = (n: ModdleElement): ModdleElement => (is(n, "bpmn:BoundaryEvent") && n.attachedToRef) || n;
  const next = new Map<ModdleElement, ModdleElement[]>(nodes.map((n) => [n, []]));
  for (const flow of flows) {
    const from = host(flow.sourceRef);
    if (next.has(from) && next.has(flow.targetRef)) next.get(from)!.push(flow.targetRef);
  }
  // back edges by a depth-first walk from the starts (then from anything not reached, in document order)
  const state = new Map<ModdleElement, "open" | "done">();
  const forward = new Map<ModdleElement, ModdleElement[]>(nodes.map((n) => [n, []]));
  const order: ModdleElement[] = [];
  const visit = (root: ModdleElement): void => {
    const stack: [ModdleElement, number][] = [[root, 0]];
    state.set(root, "open");
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      const children = next.get(node)!;
      if (i < children.length) {
        top[1] += 1;
        const child = children[i];
        if (state.get(child) === "open") continue; // a loop back: not a column constraint
        forward.get(node)!.push(child);
        if (!state.has(child)) {
          state.set(child, "open");
          stack.push([child, 0]);
        }
      } else {
        state.set(node, "done");
        order.push(node);
        stack.pop();
      }
    }
  };
  const starts = nodes.filter((n) => is(n, "bpmn:StartEvent"));
  for (const n of [...starts, ...nodes]) if (!state.has(n)) visit(n);
  const column = new Map<ModdleElement, number>(nodes.map((n) => [n, 0]));
  for (const node of order.reverse()) {
    for (const child of forward.get(node)!) column.set(child, Math.max(column.get(child)!, column.get(node)! + 1));
  }
  return column;
}

/** Which lane each node is drawn in: its own, else the lane of the node it comes from, else the first lane. */
function lanesOf(
  nodes: ModdleElement[],
  flows: ModdleElement[],
  lanes: ModdleElement[],
  column: Map<ModdleElement, number>,
): Map<ModdleElement, number> {
  const laneOf = new Map<ModdleElement, number>();
  lanes.forEach((lane, i) => {
    for (const ref of (lane.flowNodeRef ?? []) as ModdleElement[]) laneOf.set(ref, i);
  });
  const sorted = [...nodes].sort((a, b) => column.get(a)! - column.get(b)!);
  for (let pass = 0; pass < 2; pass++) {
    for (const node of sorted) {
      if (laneOf.has(node)) continue;
      const from = flows.find(
        (f) => f.targetRef === node && laneOf.has(f.sourceRef) && column.get(f.sourceRef)! < column.get(node)!,
      );
      const to = pass === 1 ? flows.find((f) => f.sourceRef === node && laneOf.has(f.targetRef)) : undefined;
      const found = from?.sourceRef ?? to?.targetRef;
      if (found) laneOf.set(node, laneOf.get(found)!);
    }
  }
  for (const node of nodes) if (!laneOf.has(node)) laneOf.set(node, 0);
  return laneOf;
}

function center(b: Bounds): [number, number] {
  return [b.x + b.width / 2, b.y + b.height / 2];
}

function waypoints(source: ModdleElement, s: Bounds, t: Bounds, loop: number): [number, number][] {
  const [sx, sy] = center(s);
  const [tx, ty] = center(t);
  if (is(source, "bpmn:BoundaryEvent")) {
    const start: [number, number] = [sx, s.y + s.height];
    return ty > start[1] ? [start, [sx, ty], [t.x, ty]] : [start, [sx, start[1] + 20], [tx, start[1] + 20], [tx, t.y + t.height]];
  }
  if (tx > sx) {
    const start: [number, number] = [s.x + s.width, sy];
    if (Math.abs(ty - sy) < 1) return [start, [t.x, ty]];
    const mid = Math.round((s.x + s.width + t.x) / 2);
    return [start, [mid, sy], [mid, ty], [t.x, ty]];
  }
  // a loop back: under both shapes, each loop a little lower so they do not overlap
  const below = Math.max(s.y + s.height, t.y + t.height) + 20 + 8 * (loop % 4);
  return [
    [sx, s.y + s.height],
    [sx, below],
    [tx, below],
    [tx, t.y + t.height],
  ];
}

/**
 * Give a process without diagram interchange its shapes and edges (and link its flows). Returns false when the
 * diagram already has a layout (then only the flows are linked).
 */
export function ensureLayout(definitions: ModdleElement, moddle: Moddle): boolean {
  const process = mainProcess(definitions);
  if (!process) return false;
  linkFlows(process);
  if (hasLayout(definitions, process)) return false;

  const elements = (process.flowElements ?? []) as ModdleElement[];
  const flows = elements.filter((e) => is(e, "bpmn:SequenceFlow"));
  const boundaries = elements.filter((e) => is(e, "bpmn:BoundaryEvent"));
  const nodes = elements.filter((e) => is(e, "bpmn:FlowNode") && !is(e, "bpmn:BoundaryEvent"));
  const lanes = ((process.laneSets ?? []) as ModdleElement[]).flatMap((s) => (s.lanes ?? []) as ModdleElement[]);

  const column = columns([...nodes, ...boundaries], flows);
  const laneOf = lanesOf(nodes, flows, lanes, column);

  // rows inside each lane: nodes sharing a lane and a column are stacked
  const bandCount = Math.max(lanes.length, 1);
  const rowsInBand = new Array<number>(bandCount).fill(1);
  const rowOf = new Map<ModdleElement, number>();
  const taken = new Map<string, number>();
  for (const node of nodes) {
    const key = `${laneOf.get(node)}:${column.get(node)}`;
    const row = taken.get(key) ?? 0;
    taken.set(key, row + 1);
    rowOf.set(node, row);
    rowsInBand[laneOf.get(node)!] = Math.max(rowsInBand[laneOf.get(node)!], row + 1);
  }
  const bandTop: number[] = [];
  let top = MARGIN;
  for (let i = 0; i < bandCount; i++) {
    bandTop.push(top);
    top += rowsInBand[i] * ROW;
  }
  const maxColumn = Math.max(0, ...nodes.map((n) => column.get(n)!));
  const left = MARGIN + (lanes.length ? LANE_HEADER : 0);
  const width = (lanes.length ? LANE_HEADER : 0) + (maxColumn + 1) * COLUMN + 40;

  const ids = new Set<string>(elements.map((e) => e.id ?? ""));
  const idFor = (base: string): string => {
    let id = `${base}_di`;
    for (let i = 2; ids.has(id); i++) id = `${base}_di${i}`;
    ids.add(id);
    return id;
  };
  const bounds = new Map<ModdleElement, Bounds>();
  const planeElements: ModdleElement[] = [];
  const shape = (element: ModdleElement, b: Bounds, extra: Record<string, unknown> = {}): void => {
    bounds.set(element, b);
    planeElements.push(
      moddle.create("bpmndi:BPMNShape", {
        id: idFor(element.id!),
        bpmnElement: element,
        bounds: moddle.create("dc:Bounds", { ...b }),
        ...extra,
      }),
    );
  };

  lanes.forEach((lane, i) =>
    shape(lane, { x: MARGIN, y: bandTop[i], width, height: rowsInBand[i] * ROW }, { isHorizontal: true }),
  );
  for (const node of nodes) {
    const [w, h] = sizeOf(node);
    const cx = left + column.get(node)! * COLUMN + COLUMN / 2;
    const cy = bandTop[laneOf.get(node)!] + rowOf.get(node)! * ROW + ROW / 2;
    const extra = is(node, "bpmn:ExclusiveGateway") ? { isMarkerVisible: true } : {};
    shape(node, { x: Math.round(cx - w / 2), y: Math.round(cy - h / 2), width: w, height: h }, extra);
  }
  const onHost = new Map<ModdleElement, number>();
  for (const event of boundaries) {
    const host = bounds.get(event.attachedToRef);
    if (!host) continue;
    const k = onHost.get(event.attachedToRef) ?? 0;
    onHost.set(event.attachedToRef, k + 1);
    shape(event, { x: host.x + host.width - 28 - 40 * k, y: host.y + host.height - 18, width: 36, height: 36 });
  }
  let loops = 0;
  for (const flow of flows) {
    const s = bounds.get(flow.sourceRef);
    const t = bounds.get(flow.targetRef);
    if (!s || !t) continue;
    const points = waypoints(flow.sourceRef, s, t, center(t)[0] <= center(s)[0] ? loops++ : 0);
    planeElements.push(
      moddle.create("bpmndi:BPMNEdge", {
        id: idFor(flow.id!),
        bpmnElement: flow,
        waypoint: points.map(([x, y]) => moddle.create("dc:Point", { x, y })),
      }),
    );
  }

  const plane = moddle.create("bpmndi:BPMNPlane", { id: idFor(`${process.id}_plane`), bpmnElement: process });
  plane.set("planeElement", planeElements);
  const diagram = moddle.create("bpmndi:BPMNDiagram", { id: idFor(`${process.id}_diagram`), plane });
  definitions.set("diagrams", [diagram]);
  return true;
}

/** The XML bpmn-js opens: the text with its flows linked and, when it had none, a layout. */
export async function prepareXml(xml: string, moddle: Moddle = createModdle()): Promise<string> {
  const { rootElement } = await moddle.fromXML(xml);
  ensureLayout(rootElement, moddle);
  return (await moddle.toXML(rootElement, { format: true })).xml;
}
