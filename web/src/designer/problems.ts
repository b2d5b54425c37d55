// Where the server's validation problems are drawn: on the element they name when the canvas shows it (a marker
// and a badge), else only in the list (a problem of the whole file, of a DMN table, of an element without shape
// such as a bpmn:Message). Also the bpmnlint issues, so both lists read alike.
export interface ServerProblem {
  element_id?: string | null;
  line?: number | null;
  reason: string;
}

export interface ListedProblem {
  source: "server" | "lint";
  elementId: string | null; // an element on the canvas, or null when it is not drawn
  named: string | null; // the id the problem names, drawn or not
  label: string; // the element's name (or id) as the list shows it
  line: number | null;
  reason: string;
  severity: "error" | "warn";
}

export interface Placed {
  list: ListedProblem[];
  byElement: Map<string, ListedProblem[]>;
}

/** `drawn(id)`: the element's name when the canvas shows it (a shape or a connection), else undefined. */
export function placeProblems(
  server: ServerProblem[],
  lint: Record<string, { message: string; category: string; id?: string }[]>,
  drawn: (id: string) => string | undefined,
): Placed {
  const list: ListedProblem[] = [];
  for (const p of server) {
    const named = p.element_id ?? null;
    const name = named ? drawn(named) : undefined;
    list.push({
      source: "server",
      elementId: name !== undefined ? named : null,
      named,
      label: name || named || "整个流程文件",
      line: p.line ?? null,
      reason: p.reason,
      severity: "error",
    });
  }
  for (const [id, issues] of Object.entries(lint)) {
    const name = drawn(id);
    for (const issue of issues) {
      list.push({
        source: "lint",
        elementId: name !== undefined ? id : null,
        named: id,
        label: name || id,
        line: null,
        reason: issue.message,
        severity: issue.category === "error" ? "error" : "warn",
      });
    }
  }
  const byElement = new Map<string, ListedProblem[]>();
  for (const p of list) {
    if (p.source === "server" && p.elementId) byElement.set(p.elementId, [...(byElement.get(p.elementId) ?? []), p]);
  }
  return { list, byElement };
}
