// The designer's pure logic: the layout of our hand-written diagrams, the loop references SpiffWorkflow reads,
// the bpmnlint config in Chinese, the spiffworkflow:property edits, where problems are drawn, the diff's colours.
import { readFileSync } from "node:fs";

import { Linter } from "bpmnlint";
import { describe, expect, it } from "vitest";

import {
  joinScope,
  setSpiffProperty,
  setWorkingDays,
  splitScope,
  spiffProperty,
  timerExpression,
  toggleDecision,
  workingDays,
} from "../src/designer/extensions";
import { columns, ensureLayout, prepareXml } from "../src/designer/layout";
import { bpmnlintConfig, chineseMessage } from "../src/designer/lintConfig";
import { extractLoopRefs, restoreLoopRefs } from "../src/designer/loopRefs";
import { createModdle, is, mainProcess, type ModdleElement } from "../src/designer/moddle";
import { newDiagram } from "../src/designer/newDiagram";
import { placeProblems } from "../src/designer/problems";
import { compare, markersOf } from "../src/designer/visualDiff";

const KEYS = [
  "application_review",
  "initial_determination",
  "out_of_province_confirmation",
  "talent_statistics",
  "certificate_verification",
];
const diagram = (key: string): string => readFileSync(`../bpmn/${key}/${key}.bpmn`, "utf8");

async function read(xml: string): Promise<ModdleElement> {
  return (await createModdle().fromXML(xml)).rootElement;
}

function shapesOf(definitions: ModdleElement): Map<string, { x: number; y: number; width: number; height: number }> {
  const plane = definitions.diagrams[0].plane;
  return new Map(
    (plane.planeElement as ModdleElement[])
      .filter((e) => is(e, "bpmndi:BPMNShape"))
      .map((e) => [e.bpmnElement.id as string, e.bounds]),
  );
}

describe("layout of a diagram without diagram interchange", () => {
  it.each(KEYS)("%s: every flow node and lane gets a shape, every flow an edge, nodes inside their lane", async (key) => {
    const moddle = createModdle();
    const definitions = (await moddle.fromXML(diagram(key))).rootElement;
    expect(definitions.diagrams ?? []).toHaveLength(0);
    expect(ensureLayout(definitions, moddle)).toBe(true);
    const process = mainProcess(definitions)!;
    const elements = process.flowElements as ModdleElement[];
    const shapes = shapesOf(definitions);
    const edges = (definitions.diagrams[0].plane.planeElement as ModdleElement[]).filter((e) => is(e, "bpmndi:BPMNEdge"));
    for (const node of elements.filter((e) => is(e, "bpmn:FlowNode"))) expect(shapes.has(node.id!), node.id).toBe(true);
    expect(edges).toHaveLength(elements.filter((e) => is(e, "bpmn:SequenceFlow")).length);
    const lanes = (process.laneSets[0].lanes ?? []) as ModdleElement[];
    for (const lane of lanes) {
      const band = shapes.get(lane.id!)!;
      for (const ref of lane.flowNodeRef as ModdleElement[]) {
        const b = shapes.get(ref.id!)!;
        expect(b.y >= band.y && b.y + b.height <= band.y + band.height, `${ref.id} in ${lane.id}`).toBe(true);
      }
    }
    // no two flow nodes (boundary events sit on their task) share a place
    const boxes = [...shapes.entries()].filter(([id]) => !lanes.some((l) => l.id === id));
    const nodes = boxes.filter(([id]) => !elements.find((e) => e.id === id && is(e, "bpmn:BoundaryEvent")));
    for (let i = 0; i < nodes.length; i++)
      for (let j = i + 1; j < nodes.length; j++) {
        const [a, b] = [nodes[i][1], nodes[j][1]];
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect(overlap, `${nodes[i][0]} / ${nodes[j][0]}`).toBe(false);
      }
    // a second pass changes nothing (the designer's own layout is kept)
    expect(ensureLayout(definitions, moddle)).toBe(false);
  });

  it("places a node after everything it follows, except along loops back", async () => {
    const process = mainProcess(await read(diagram("application_review")))!;
    const elements = process.flowElements as ModdleElement[];
    const column = columns(
      elements.filter((e) => is(e, "bpmn:FlowNode")),
      elements.filter((e) => is(e, "bpmn:SequenceFlow")),
    );
    const at = (id: string) => column.get(elements.find((e) => e.id === id)!)!;
    expect(at("start")).toBe(0);
    expect(at("unit_review")).toBeLessThan(at("dept_review"));
    expect(at("dept_review")).toBeLessThan(at("committee_accept"));
    expect(at("expert_vote")).toBeLessThan(at("authority_confirm"));
    expect(at("returned")).toBeGreaterThan(at("unit_review")); // reached from the unit's return, drawn after it
  });

  it("links each flow node's incoming and outgoing flows, so the generic rules see a connected process", async () => {
    const prepared = await read(await prepareXml(diagram("application_review")));
    const task = (mainProcess(prepared)!.flowElements as ModdleElement[]).find((e) => e.id === "unit_review")!;
    expect((task.incoming as ModdleElement[]).map((f) => f.id)).toEqual(["f3"]);
    expect((task.outgoing as ModdleElement[]).map((f) => f.id)).toEqual(["f5"]);
  });
});

describe("multi-instance loop references SpiffWorkflow reads as variable names", () => {
  it("are lost by bpmn-moddle and put back in XSD order", async () => {
    const source = diagram("application_review");
    const refs = extractLoopRefs(source);
    expect(refs).toEqual({ expert_vote: { loopDataInputRef: "experts", loopDataOutputRef: "votes" } });
    const roundTrip = await prepareXml(source);
    expect(roundTrip).not.toContain("loopDataInputRef");
    const restored = restoreLoopRefs(roundTrip, refs);
    const loop = new DOMParser()
      .parseFromString(restored, "application/xml")
      .getElementsByTagNameNS("http://www.omg.org/spec/BPMN/20100524/MODEL", "multiInstanceLoopCharacteristics")[0];
    expect(Array.from(loop.children, (c) => `${c.localName}=${c.textContent || c.getAttribute("name")}`)).toEqual([
      "loopDataInputRef=experts",
      "loopDataOutputRef=votes",
      "inputDataItem=expert",
      "outputDataItem=vote",
    ]);
    expect(restored.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(restoreLoopRefs(restored, refs)).toBe(restored); // idempotent
  });
});

describe("bpmnlint config", () => {
  async function lint(xml: string) {
    return new Linter(bpmnlintConfig).lint(await read(await prepareXml(xml)));
  }

  it("resolves every configured rule and reports in Chinese", async () => {
    const broken = newDiagram("lint_probe", "检查").replace(
      '<bpmn:sequenceFlow id="flow_end" sourceRef="unit_review" targetRef="end" />',
      "",
    );
    const reports = await lint(broken);
    expect(reports["no-implicit-end"]?.map((r: { id: string; message: string }) => [r.id, r.message])).toEqual([
      ["unit_review", "元素没有出口连线，流程在此隐式结束（应连到结束事件）"],
    ]);
    expect(reports["no-disconnected"]?.[0].message).toBe("元素没有任何连线");
    expect(() => bpmnlintConfig.resolver.resolveRule("bpmnlint", "label-required")).toThrow();
  });

  it("finds no error in the repository's diagrams once laid out", async () => {
    for (const key of KEYS) {
      const reports = await lint(diagram(key));
      const errors = Object.entries(reports).filter(([rule]) => bpmnlintConfig.config.rules[rule] === "error");
      expect(errors, key).toEqual([]);
    }
  });

  it("translates the rules' messages, with the element type", () => {
    expect(chineseMessage("Process is missing end event")).toBe("流程缺少结束事件");
    expect(chineseMessage("Element type <bpmn:ComplexGateway> is discouraged")).toBe("不建议使用复杂网关");
    expect(chineseMessage("Something new")).toBe("Something new");
  });
});

describe("spiffworkflow:property edits", () => {
  async function task(id = "unit_review"): Promise<[ModdleElement, ReturnType<typeof createModdle>]> {
    const moddle = createModdle();
    const definitions = (await moddle.fromXML(newDiagram("edit_probe", "编辑"))).rootElement;
    return [(mainProcess(definitions)!.flowElements as ModdleElement[]).find((e) => e.id === id)!, moddle];
  }
  function apply(commands: ReturnType<typeof setSpiffProperty>): void {
    for (const { context } of commands) for (const [k, v] of Object.entries(context.properties)) context.moddleElement.set(k, v);
  }

  it("changes, adds and removes a property as the review service reads it", async () => {
    const [bo, moddle] = await task();
    expect(spiffProperty(bo, "dueIn")).toBe("10");
    apply(setSpiffProperty(null, bo, "dueIn", "12", moddle));
    expect(spiffProperty(bo, "dueIn")).toBe("12");
    expect(setSpiffProperty(null, bo, "dueIn", "12", moddle)).toEqual([]); // unchanged: no command
    apply(setSpiffProperty(null, bo, "assignee", "expert", moddle));
    apply(setSpiffProperty(null, bo, "formKey", "", moddle));
    expect(spiffProperty(bo, "formKey")).toBe("");
    const xml = (await moddle.toXML(bo.$parent!.$parent!)).xml;
    expect(xml).toContain('<spiffworkflow:property name="dueIn" value="12" />');
    expect(xml).toContain('<spiffworkflow:property name="assignee" value="expert" />');
    expect(xml).not.toContain('name="formKey"');
  });

  it("creates the extension elements on a task that has none", async () => {
    const [start, moddle] = await task("start");
    expect(spiffProperty(start, "formKey")).toBe("");
    const commands = setSpiffProperty(null, start, "formKey", "x_v1", moddle);
    expect(commands).toHaveLength(3); // extensionElements, properties, property
    apply(commands);
    expect(spiffProperty(start, "formKey")).toBe("x_v1");
  });

  it("keeps decisions in the order approve, return, reject and scopes as type:variable", () => {
    const order = ["approve", "return", "reject"];
    expect(toggleDecision("reject,approve", "return", true, order)).toBe("approve,return,reject");
    expect(toggleDecision("approve,return", "approve", false, order)).toBe("return");
    expect(toggleDecision("approve,maybe", "reject", true, order)).toBe("approve,reject,maybe");
    expect(splitScope("unit:unit_id")).toEqual(["unit", "unit_id"]);
    expect(joinScope("department", "")).toBe("department:department_id");
    expect(joinScope("region", "")).toBe("region:authority_region");
    expect(joinScope("", "unit_id")).toBe("");
  });

  it("reads and writes timers in working days", async () => {
    const moddle = createModdle();
    const definitions = (await moddle.fromXML(diagram("application_review"))).rootElement;
    const event = (mainProcess(definitions)!.flowElements as ModdleElement[]).find((e) => e.id === "unit_notice_ends")!;
    const timer = event.eventDefinitions[0];
    expect(workingDays(timerExpression(timer))).toBe(5);
    for (const { context } of setWorkingDays(null, timer, 7, moddle))
      for (const [k, v] of Object.entries(context.properties)) context.moddleElement.set(k, v);
    expect(timerExpression(timer)).toBe("working_days_later(7)");
    expect(workingDays("resubmit_deadline or working_days_later(resubmit_working_days)")).toBeNull();
  });
});

describe("problems on the canvas", () => {
  it("draws a problem on the element it names when drawn, else lists it only", () => {
    const drawn = (id: string) => ({ lane_unit: "", unit_review: "单位审核推荐" })[id];
    const placed = placeProblems(
      [
        { element_id: "lane_unit", line: 18, reason: "泳道“”不是已知角色" },
        { element_id: "m_withdraw", line: 9, reason: "消息" },
        { element_id: null, line: 1, reason: "流程文件不是合法的 XML" },
      ],
      { unit_review: [{ message: "元素没有任何连线", category: "error" }] },
      drawn,
    );
    expect(placed.list.map((p) => [p.source, p.elementId, p.label])).toEqual([
      ["server", "lane_unit", "lane_unit"],
      ["server", null, "m_withdraw"],
      ["server", null, "整个流程文件"],
      ["lint", "unit_review", "单位审核推荐"],
    ]);
    expect([...placed.byElement.keys()]).toEqual(["lane_unit"]);
  });
});

describe("visual diff", () => {
  it("colours a changed property and a replaced task, not the layout", async () => {
    const before = diagram("application_review");
    const after = before
      .replace('name="dueIn" value="10"', 'name="dueIn" value="12"')
      .replace(/record_defence\b/g, "record_defence_v2");
    const { marked } = await compare(before, after);
    expect(marked.changed).toContain("unit_review");
    expect(marked.added).toContain("record_defence_v2");
    expect(marked.removed).toContain("record_defence");
    expect(marked.changed).not.toContain("record_defence_v2");
  });

  it("ignores layout-only moves and keeps added and removed out of changed", () => {
    expect(
      markersOf({ _added: { a: {} }, _removed: { r: {} }, _changed: { a: {}, c: {} }, _layoutChanged: { l: {} } }),
    ).toEqual({ added: ["a"], removed: ["r"], changed: ["c"] });
  });
});
