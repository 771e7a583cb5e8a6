// A process: its diagram (bpmn-js, the navigated viewer: pan and zoom, no editing) with a
// badge per element (tokens waiting there now, open incidents, instances that passed), a
// heatmap of instances passed or average time spent, the version shown, and its instances
// by state.
import { get } from '../api.js';
import { drawDiagram } from '../diagram.js';
import { duration, h, link, number, show, when } from '../dom.js';

const HEAT_LEVELS = 5;

// The heat of each element, 1 to HEAT_LEVELS, relative to the hottest: `value(e)` is
// instances passed or average time; elements without a value get none.
function heat(elements, value) {
  const top = Math.max(0, ...elements.map((e) => value(e) ?? 0));
  const out = new Map();
  if (top === 0) return out;
  for (const e of elements) {
    const v = value(e);
    if (v) out.set(e.elementId, Math.max(1, Math.ceil((v / top) * HEAT_LEVELS)));
  }
  return out;
}

export async function processPage(main, processId, params, current) {
  const { processes } = await get('/v1/processes');
  const process = processes.find((p) => p.processId === processId);
  if (!process) throw new Error(`no process '${processId}' is deployed`);
  const versions = process.versions.map((v) => v.version);
  const asked = Number(params.get('version'));
  const version = versions.includes(asked) ? asked : versions[versions.length - 1];
  const base = `/v1/processes/${encodeURIComponent(processId)}/versions/${version}`;
  const [xml, stats] = await Promise.all([get(`${base}/xml`, { text: true }),
    get(`${base}/elements`)]);
  if (!current()) return;

  const picker = h('select', {
    id: 'version',
    'aria-label': 'Version',
    on: {
      change: (e) => {
        location.hash = `${link('processes', processId)}?version=${e.target.value}`;
      },
    },
  }, process.versions.map((v) => h('option', { value: v.version, selected: v.version === version },
    `version ${v.version} (${when(v.deployedAt)})`)));
  const canvas = h('div', { class: 'diagram', id: 'diagram' });
  const counts = Object.entries(process.instances).map(([state, n]) =>
    h('span', { class: 'count', 'data-state': state }, h('b', {}, number(n)), ` ${state}`));
  const shown = params.get('heat') ?? 'off';
  const heatPicker = h('select', {
    id: 'heatmap',
    'aria-label': 'Heatmap',
    on: {
      change: (e) => {
        location.hash = `${link('processes', processId)}?version=${version}&heat=${e.target.value}`;
      },
    },
  }, [['off', 'no heatmap'], ['passed', 'heatmap: instances passed'],
    ['time', 'heatmap: average time spent']].map(([value, label]) =>
    h('option', { value, selected: value === shown }, label)));
  const instances = (query) => `#/instances?processId=${encodeURIComponent(processId)}` +
    `&version=${version}${query}`;
  const table = h('table', { class: 'grid', id: 'elements' },
    h('thead', {}, h('tr', {}, ['Element', 'Waiting now', 'Incidents', 'Passed', 'Terminated',
      'Average time'].map((t) => h('th', {}, t)))),
    h('tbody', {}, stats.elements.map((e) => h('tr', { 'data-element': e.elementId },
      h('td', {}, e.elementId),
      h('td', { class: 'num' }, number(e.active)),
      h('td', { class: `num${e.incidents ? ' alert' : ''}` },
        e.incidents ? h('a', { href: instances('&state=incident') }, number(e.incidents)) : '0'),
      h('td', { class: 'num' }, number(e.completed)),
      h('td', { class: 'num' }, number(e.terminated)),
      h('td', { class: 'num' }, duration(e.averageMs))))));
  show(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Processes'), ' / ', processId),
    h('h1', {}, processId, ' ', picker, ' ', heatPicker),
    h('p', { class: 'counts' }, counts, h('small', {}, ' (all versions)'),
      h('a', { href: instances('') }, 'its instances')),
    h('p', { class: 'legend' },
      h('span', { class: 'badge active' }, 'waiting now'), ' ',
      h('span', { class: 'badge incidents' }, 'incidents'), ' ',
      h('span', { class: 'badge passed' }, 'passed'),
      shown !== 'off' ? [' ', h('span', { class: 'heat-scale' },
        shown === 'time' ? 'short' : 'few', Array.from({ length: HEAT_LEVELS },
          (_, i) => h('span', { class: `ordo-heat-${i + 1}` }, ' ')),
        shown === 'time' ? 'long' : 'many')] : null),
    canvas,
    h('h2', {}, `Elements of version ${version}`),
    stats.elements.length ? table : h('p', {}, 'No instance of this version has started yet.'));

  await drawDiagram(canvas, xml, (viewer) => {
    const drawn = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    const marks = viewer.get('canvas');
    const levels = shown === 'passed' ? heat(stats.elements, (e) => e.completed)
      : shown === 'time' ? heat(stats.elements, (e) => e.averageMs) : new Map();
    for (const e of stats.elements) {
      if (!drawn.get(e.elementId)) continue;
      const badges = [['active', e.active, 'waiting now'], ['incidents', e.incidents, 'incidents'],
        ['passed', e.completed, 'passed']].filter(([, n]) => n > 0)
        .map(([cls, n, what]) => h('span', { class: `badge ${cls}`, title: `${number(n)} ${what}` },
          number(n)));
      if (badges.length) {
        overlays.add(e.elementId, 'ordo-badges', {
          position: { top: -14, left: -4 },
          scale: { min: 1 },  // readable however far the diagram is zoomed out
          html: h('div', { class: 'badges', 'data-badges': e.elementId }, badges),
        });
      }
      if (levels.has(e.elementId)) marks.addMarker(e.elementId, `ordo-heat-${levels.get(e.elementId)}`);
    }
  });
}
