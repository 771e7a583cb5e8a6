// Drawing a process on its diagram: bpmn-js's navigated viewer (pan and zoom, no editing).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import { h } from './dom.js';

// Draws `xml` in `canvas` and returns the viewer; `mark(viewer)` may mark elements before
// the diagram is fitted to the canvas. A file that cannot be drawn is said in its place
// (null returned).
export async function drawDiagram(canvas, xml, mark = () => {}) {
  const viewer = new NavigatedViewer({ container: canvas });
  try {
    await viewer.importXML(xml);
  } catch (e) {
    canvas.replaceWith(h('p', { class: 'error' }, `the diagram cannot be drawn: ${e.message}`));
    return null;
  }
  mark(viewer);
  viewer.get('canvas').zoom('fit-viewport', 'auto');
  canvas.dataset.ready = 'true';
  return viewer;
}
