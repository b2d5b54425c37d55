// SpiffWorkflow reads a multi-instance task's loopDataInputRef / loopDataOutputRef as variable names (`experts`,
// `votes`); BPMN types them as references to element ids, so bpmn-moddle drops them on import as unresolved and the
// saved XML would lose the expert panel. We keep their text from the opened source and put it back into every XML
// we send (validate, deploy). The designer cannot edit them (not offered in the properties panel).
const BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const REFS = ["loopDataInputRef", "loopDataOutputRef"] as const;
// the children of multiInstanceLoopCharacteristics, in the XSD's order
const ORDER = [
  "loopCardinality",
  "loopDataInputRef",
  "loopDataOutputRef",
  "inputDataItem",
  "outputDataItem",
  "complexBehaviorDefinition",
  "completionCondition",
];

/** task id → the loop references whose text names no element (variables, as SpiffWorkflow reads them) */
export type LoopRefs = Record<string, Partial<Record<(typeof REFS)[number], string>>>;

function parse(xml: string): Document {
  return new DOMParser().parseFromString(xml, "application/xml");
}

export function extractLoopRefs(xml: string): LoopRefs {
  const doc = parse(xml);
  const ids = new Set(Array.from(doc.querySelectorAll("[id]"), (e) => e.getAttribute("id")));
  const out: LoopRefs = {};
  for (const loop of Array.from(doc.getElementsByTagNameNS(BPMN_NS, "multiInstanceLoopCharacteristics"))) {
    const task = loop.parentElement?.getAttribute("id");
    if (!task) continue;
    for (const name of REFS) {
      const ref = Array.from(loop.children).find((c) => c.localName === name && c.namespaceURI === BPMN_NS);
      const text = ref?.textContent?.trim();
      if (text && !ids.has(text)) (out[task] ??= {})[name] = text;
    }
  }
  return out;
}

/** The XML with the kept loop references restored where the modeler's output lost them. */
export function restoreLoopRefs(xml: string, refs: LoopRefs): string {
  if (!Object.keys(refs).length) return xml;
  const doc = parse(xml);
  let changed = false;
  for (const loop of Array.from(doc.getElementsByTagNameNS(BPMN_NS, "multiInstanceLoopCharacteristics"))) {
    const kept = refs[loop.parentElement?.getAttribute("id") ?? ""];
    if (!kept) continue;
    const prefix = loop.prefix ? `${loop.prefix}:` : "";
    for (const name of REFS) {
      const text = kept[name];
      const children = Array.from(loop.children);
      if (!text || children.some((c) => c.localName === name)) continue;
      const ref = doc.createElementNS(BPMN_NS, `${prefix}${name}`);
      ref.textContent = text;
      const after = children.find((c) => ORDER.indexOf(c.localName) > ORDER.indexOf(name)) ?? null;
      loop.insertBefore(ref, after);
      changed = true;
    }
  }
  if (!changed) return xml;
  const body = new XMLSerializer().serializeToString(doc);
  return body.startsWith("<?xml") ? body : `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}
