// Processes: every deployed process, its versions, and its instances by state.
import { get } from '../api.js';
import { h, link, number, show } from '../dom.js';

const STATES = ['active', 'incident', 'suspended', 'completed', 'terminated'];

export async function processesPage(main, current) {
  const { processes } = await get('/v1/processes');
  if (!current()) return;
  if (processes.length === 0) {
    show(main, h('h1', {}, 'Processes'),
      h('p', {}, 'Nothing is deployed yet: POST a BPMN file to /v1/deployments.'));
    return;
  }
  const rows = processes.map((p) => {
    const latest = p.versions[p.versions.length - 1];
    return h('tr', { 'data-process': p.processId },
      h('td', {}, h('a', { href: link('processes', p.processId) }, p.processId)),
      h('td', { class: 'num' }, latest.version),
      STATES.map((s) => h('td', {
        class: `num${s === 'incident' && p.instances[s] > 0 ? ' alert' : ''}`,
        'data-state': s,
      }, number(p.instances[s]))));
  });
  show(main,
    h('h1', {}, 'Processes'),
    h('table', { class: 'grid' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'Process'), h('th', { class: 'num' }, 'Version'),
        STATES.map((s) => h('th', { class: 'num' }, s === 'incident' ? 'with incidents' : s)))),
      h('tbody', {}, rows)));
}
