// The visual diff: bpmn-js-differ compares two versions' models; we colour what it found on the two viewers
// (removed on the old one, added on the new one, changed on both). Layout-only moves are not changes of the process.
import { diff } from "bpmn-js-differ";

import { ensureLayout } from "./layout";
import { createModdle, type ModdleElement } from "./moddle";

export interface Marked {
  added: string[];
  removed: string[];
  changed: string[];
}

interface DifferResult {
  _added: Record<string, unknown>;
  _removed: Record<string, unknown>;
  _changed: Record<string, unknown>;
  _layoutChanged: Record<string, unknown>;
}

export function markersOf(result: DifferResult): Marked {
  const added = Object.keys(result._added);
  const removed = Object.keys(result._removed);
  const moved = new Set([...added, ...removed]);
  return { added, removed, changed: Object.keys(result._changed).filter((id) => !moved.has(id)) };
}

/** Both versions read as the designer opens them (laid out, flows linked), then compared. */
export async function compare(oldXml: string, newXml: string): Promise<{ marked: Marked; oldXml: string; newXml: string }> {
  const moddle = createModdle();
  const read = async (xml: string): Promise<[ModdleElement, string]> => {
    const { rootElement } = await moddle.fromXML(xml);
    ensureLayout(rootElement, moddle);
    return [rootElement, (await moddle.toXML(rootElement, { format: true })).xml];
  };
  const [before, oldText] = await read(oldXml);
  const [after, newText] = await read(newXml);
  return { marked: markersOf(diff(before, after) as DifferResult), oldXml: oldText, newXml: newText };
}
