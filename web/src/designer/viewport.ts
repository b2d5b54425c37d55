// Where a canvas opens: our processes are wide (30 columns), so "fit" would draw them too small to read.
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CanvasLike {
  viewbox(box?: Box): Box & { scale: number; inner: Box; outer: Box };
  scrollToElement(element: unknown, padding?: number): void;
}

/** The whole diagram when it fits at a readable size, else its start at 80 %; `left`: space kept free on the
 * left (the modeler's palette covers the canvas' left edge, where the lanes' names are). */
export function showStart(canvas: CanvasLike, left = 0): void {
  const { inner, outer } = canvas.viewbox();
  const fit = Math.min((outer.width - left - 20) / inner.width, (outer.height - 40) / inner.height, 1);
  const scale = fit < 0.7 ? 0.8 : fit;
  canvas.viewbox({
    x: inner.x - (left + 10) / scale,
    y: inner.y - 20 / scale,
    width: outer.width / scale,
    height: outer.height / scale,
  });
}

/** At a readable size, the element in view. */
export function showElement(canvas: CanvasLike, element: unknown): void {
  const { outer } = canvas.viewbox();
  const current = canvas.viewbox();
  if (current.scale < 0.7) canvas.viewbox({ x: current.x, y: current.y, width: outer.width / 0.8, height: outer.height / 0.8 });
  canvas.scrollToElement(element, 80);
}
