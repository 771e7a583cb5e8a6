// Incidents: the open ones grouped by process, element and message, each group with its
// orders; retry one (on its instance's page) or a whole group at once.
import { get, post, scopes } from '../api.js';
import { confirmed, h, link, number, refresh, show } from '../dom.js';

export async function incidentsPage(main, current) {
  const [{ incidents }, may] = await Promise.all([get('/v1/incidents'), scopes()]);
  if (!current()) return;
  const groups = new Map();
  for (const i of incidents) {
    const key = JSON.stringify([i.processId, i.elementId, i.message]);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(i);
  }
  const sorted = [...groups.values()].sort((a, b) => b.length - a.length);
  const rows = sorted.map((group, n) => {
    const [first] = group;
    const retry = may.includes('admin')
      ? confirmed(`Retry all ${number(group.length)}`,
        `Retry the ${number(group.length)} incident${group.length === 1 ? '' : 's'} of this group?`,
        'Retry them', async () => {
          const done = await post('/v1/incidents/resolve', {
            processId: first.processId, elementId: first.elementId, message: first.message });
          if (done.failed.length) {
            throw new Error(`${done.resolved} retried; ${done.failed.length} could not be: ` +
              done.failed.map((f) => f.message).join('; '));
          }
          refresh();
        }, { 'data-retry-group': n })
      : null;
    return h('tr', { 'data-group': n },
      h('td', {}, h('a', { href: link('processes', first.processId) }, first.processId)),
      h('td', {}, first.elementId),
      h('td', { class: 'message' }, first.message),
      h('td', { class: 'num' }, number(group.length)),
      h('td', { class: 'orders' }, group.slice(0, 5).map((i) =>
        [h('a', { href: link('instances', i.instance) }, i.businessKey ?? `#${i.instance}`), ' ']),
      group.length > 5 ? `and ${number(group.length - 5)} more` : null),
      h('td', {}, retry));
  });
  show(main,
    h('h1', {}, 'Incidents'),
    incidents.length === 0
      ? h('p', { id: 'none' }, 'No open incident.')
      : h('table', { class: 'grid', id: 'incident-groups' },
        h('thead', {}, h('tr', {}, ['Process', 'Element', 'Message', 'Open', 'Orders', '']
          .map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)));
}
