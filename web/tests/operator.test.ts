// The operator console's pure parts: times and deadlines in Chinese, which actions an instance allows, and the
// diagram made drawable (laid out when it has no shapes) with the flows its tokens took.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { describe, expect, it } from "vitest";

import { drawable, takenFlows, wireFlows } from "../src/operator/diagram";
import {
  actionsFor,
  actorLabel,
  beijingTime,
  deadlineText,
  dueTime,
  messageLabel,
  taskDeadlineText,
} from "../src/operator/labels";

// the workflow-host tests' diagram (no diagram interchange, like every file in bpmn/); vitest runs in web/
const HOST_TEST = readFileSync(resolve(process.cwd(), "../tests/support/bpmn/host_test.bpmn"), "utf-8");

describe("times", () => {
  it("shows Beijing time, and a due time at midnight as 24:00 of the day before", () => {
    expect(beijingTime("2026-11-27T02:00:00+00:00")).toBe("2026-11-27 10:00");
    expect(dueTime("2026-12-04T16:00:00+00:00")).toBe("2026-12-04 24:00");
    expect(dueTime("2026-12-04T08:30:00+00:00")).toBe("2026-12-04 16:30");
    expect(beijingTime(null)).toBe("—");
  });
});

describe("deadlines", () => {
  it("counts working days left, today's due date and overdue days", () => {
    expect(deadlineText({ working_days_left: 5, overdue: false })).toEqual({ text: "剩余 5 个工作日", overdue: false });
    expect(deadlineText({ working_days_left: 0, overdue: false })).toEqual({ text: "今日到期", overdue: false });
    expect(deadlineText({ working_days_left: -2, overdue: true })).toEqual({ text: "已超期 2 个工作日", overdue: true });
    // past due on a weekend: overdue although no working day was lost yet
    expect(deadlineText({ working_days_left: 0, overdue: true })).toEqual({ text: "已超期", overdue: true });
    expect(deadlineText(null)).toBeNull();
    expect(taskDeadlineText(-1)?.overdue).toBe(true);
    expect(taskDeadlineText(null)).toBeNull();
  });
});

describe("actions", () => {
  it("offers only what the service accepts in each status", () => {
    expect(actionsFor("running")).toEqual(["suspend", "cancel"]);
    expect(actionsFor("suspended")).toEqual(["resume", "cancel"]);
    expect(actionsFor("error")).toEqual(["retry", "cancel"]);
    expect(actionsFor("stalled")).toEqual(["retry", "cancel"]);
    expect(actionsFor("completed")).toEqual([]);
    expect(actionsFor("cancelled")).toEqual([]);
  });

  it("names people, roles and messages in Chinese", () => {
    expect(actorLabel("usr_ops", "operator")).toBe("运维人员（usr_ops）");
    expect(actorLabel("system:scheduler", null)).toBe("系统");
    expect(messageLabel("resubmitted")).toBe("申报人修改后重新提交（resubmitted）");
    expect(messageLabel("other")).toBe("other");
  });
});

describe("diagram", () => {
  it("adds each node's incoming and outgoing flows, once", () => {
    const doc = new DOMParser().parseFromString(HOST_TEST, "application/xml");
    wireFlows(doc);
    wireFlows(doc);
    const gateway = doc.querySelector("[id='gw_unit']");
    const outgoing = Array.from(gateway?.children ?? []).filter((c) => c.localName === "outgoing");
    expect(outgoing.map((c) => c.textContent).sort()).toEqual(["f_unit_approve", "f_unit_reject", "f_unit_return"]);
    expect(outgoing[0].namespaceURI).toBe("http://www.omg.org/spec/BPMN/20100524/MODEL");
  });

  it("lays out a diagram without shapes, and keeps one that has them", async () => {
    const laid = await drawable(HOST_TEST);
    expect(laid.laidOut).toBe(true);
    for (const id of ["start", "unit_review", "withdraw_received", "unit_notice", "dept_review", "end_approved"]) {
      expect(laid.xml).toContain(`bpmnElement="${id}"`);
    }
    expect(laid.xml).toContain('bpmnElement="f_notice_done"'); // edges too
    const again = await drawable(laid.xml);
    expect(again).toEqual({ xml: laid.xml, laidOut: false });
    await expect(drawable("<not-closed")).rejects.toThrow("流程文件不是合法的 XML");
  });

  it("marks the flows between passed elements and into where a token waits", () => {
    const flows = [
      { id: "a", source: "start", target: "unit_review" },
      { id: "b", source: "unit_review", target: "gw" },
      { id: "c", source: "gw", target: "notice" },
      { id: "d", source: "gw", target: "end_rejected" },
      { id: "e", source: "notice", target: "dept_review" },
    ];
    expect(takenFlows(flows, ["start", "unit_review", "gw"], ["notice"])).toEqual(["a", "b", "c"]);
  });
});
