// A process: its diagram (bpmn-js, the navigated viewer: pan and zoom, no editing), the
// version shown, and its instances by state.
import { get } from '../api.js';
import { drawDiagram } from '../diagram.js';
import { h, link, number, show, when } from '../dom.js';

export async function processPage(main, processId, params, current) {
  const { processes } = await get('/v1/processes');
  const process = processes.find((p) => p.processId === processId);
  if (!process) throw new Error(`no process '${processId}' is deployed`);
  const versions = process.versions.map((v) => v.version);
  const asked = Number(params.get('version'));
  const version = versions.includes(asked) ? asked : versions[versions.length - 1];
  const xml = await get(
    `/v1/processes/${encodeURIComponent(processId)}/versions/${version}/xml`, { text: true });
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
  show(main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Processes'), ' / ', processId),
    h('h1', {}, processId, ' ', picker),
    h('p', { class: 'counts' }, counts, h('small', {}, ' (all versions)')),
    canvas);

  await drawDiagram(canvas, xml);
}
