// An instance: where it stands on its process's diagram (the elements it is at now, those
// held by incidents, the path it took), its variables, incidents, jobs, the customer
// messages sent for it, the instances it called or was called by, and its history.
import { get, post, scopes } from '../api.js';
import { drawDiagram } from '../diagram.js';
import { confirmed, edited, h, link, refresh, show } from '../dom.js';

export async function instancePage(main, id, current) {
  const instance = await get(`/v1/process-instances/${encodeURIComponent(id)}?history&deliveries`);
  const may = await scopes();
  const xml = await get(`/v1/processes/${encodeURIComponent(instance.processId)}/versions/` +
    `${instance.version}/xml`, { text: true });
  if (!current()) return;

  const canvas = h('div', { class: 'diagram', id: 'diagram' });
  const incidents = instance.incidents.map((i) => h('li', { 'data-incident': i.key },
    h('b', {}, i.elementId ?? ''), ` (${i.type}): `, h('span', { class: 'message' }, i.message),
    ' ',
    may.includes('admin')
      ? confirmed('Retry', `Retry ${i.elementId ?? 'it'} once more?`, 'Retry',
        async () => {
          await post(`/v1/incidents/${i.key}/resolve`, { retries: 1 });
          refresh();
        }, { 'data-retry': i.key })
      : null,
    may.includes('admin') && may.includes('write')
      ? edited('Retry with variables', '{\n  \n}', 'Set them and retry', async (variables) => {
        await post(`/v1/incidents/${i.key}/resolve`, { retries: 1, variables });
        refresh();
      }, { 'data-retry-with': i.key })
      : null));
  const running = ['active', 'incident', 'suspended'].includes(instance.state);
  const pause = !may.includes('write') ? null
    : instance.state === 'suspended'
      ? confirmed('Resume', `Resume instance ${instance.id}? Its jobs are handed out again, ` +
        'and timers and messages due meanwhile are delivered.', 'Resume it', async () => {
        await post(`/v1/process-instances/${instance.id}/resume`);
        refresh();
      }, { id: 'resume' })
      : running
        ? confirmed('Suspend', `Suspend instance ${instance.id}? No job of it is handed out, ` +
          'no timer fires and no message is delivered until it is resumed; a worker holding ' +
          'one of its jobs loses it.', 'Suspend it', async () => {
          await post(`/v1/process-instances/${instance.id}/suspend`);
          refresh();
        }, { id: 'suspend' })
        : null;
  const cancel = running && may.includes('write')
    ? confirmed('Cancel instance',
      `Cancel instance ${instance.id}? It ends where it stands and cannot go on.`, 'Cancel it',
      async () => {
        await post(`/v1/process-instances/${instance.id}/cancel`);
        refresh();
      }, { id: 'cancel' })
    : null;
  const instanceLink = (other) => h('a', { href: link('instances', other) }, `instance ${other}`);
  const called = instance.elements.filter((e) => e.calledInstanceId);
  const jobs = instance.jobs.map((j) => h('tr', { 'data-job': j.key },
    h('td', {}, j.elementId), h('td', {}, j.type), h('td', {}, j.state),
    h('td', { class: 'num' }, j.retries), h('td', { class: 'num' }, j.attempt),
    h('td', {}, j.lockOwner ?? ''), h('td', {}, j.lockExpiresAt ?? ''),
    h('td', { class: 'message' }, j.lastError ?? '')));
  const deliveries = instance.deliveries.map((d) => h('tr', { 'data-delivery': d.id },
    h('td', {}, d.createdAt), h('td', {}, d.message), h('td', {}, d.channel),
    h('td', {}, d.recipient), h('td', {}, d.status), h('td', {}, d.providerStatus ?? ''),
    h('td', { class: 'message' }, d.error ?? '')));
  const history = instance.history.map((e) => h('tr', {},
    h('td', { class: 'num' }, e.sequence), h('td', {}, e.time), h('td', {}, e.kind),
    h('td', {}, e.elementId ?? ''), h('td', {}, e.detail ?? '')));
  show(main,
    h('p', { class: 'crumbs' },
      h('a', { href: '#/instances' }, 'Instances'), ' / ', `instance ${instance.id}`),
    h('h1', {}, h('span', { id: 'business-key' }, instance.businessKey ?? `instance ${instance.id}`),
      h('span', { class: `state ${instance.state}`, id: 'instance-state' }, instance.state)),
    h('p', { class: 'counts' },
      h('a', { href: link('processes', instance.processId) + `?version=${instance.version}` },
        `${instance.processId} version ${instance.version}`),
      h('span', {}, `started ${instance.startedAt}`),
      instance.endedAt ? h('span', {}, `ended ${instance.endedAt} at ${instance.endEvent ?? ''}`)
        : null,
      instance.parentId ? h('span', { id: 'parent' }, 'called by ', instanceLink(instance.parentId))
        : null,
      called.length ? h('span', { id: 'called' }, 'calls ', called.map((e, i) =>
        [i ? ', ' : '', instanceLink(e.calledInstanceId), ` (${e.elementId})`])) : null,
      pause, cancel),
    canvas,
    instance.incidents.length
      ? [h('h2', {}, 'Incidents'), h('ul', { class: 'incidents', id: 'incidents' }, incidents)]
      : null,
    instance.jobs.length ? [h('h2', {}, 'Jobs'),
      h('table', { class: 'grid', id: 'jobs' },
        h('thead', {}, h('tr', {}, ['Element', 'Type', 'State', 'Retries left', 'Attempt',
          'Locked by', 'Lock until', 'Last error'].map((t) => h('th', {}, t)))),
        h('tbody', {}, jobs))] : null,
    h('h2', {}, 'Variables'),
    h('pre', { class: 'variables', id: 'variables' }, JSON.stringify(instance.variables, null, 2)),
    running && may.includes('write')
      ? edited('Edit variables', JSON.stringify(instance.variables, null, 2), 'Save variables',
        async (edited) => {
          // Only what was changed or added: a variable left as it was is not written back
          // (a worker may have changed it meanwhile; a number beyond 2^53 would be rounded).
          const variables = {};
          for (const [name, value] of Object.entries(edited)) {
            if (JSON.stringify(value) !== JSON.stringify(instance.variables[name])) {
              variables[name] = value;
            }
          }
          if (Object.keys(variables).length) {
            await post(`/v1/process-instances/${instance.id}/variables`, { variables });
          }
          refresh();
        }, { id: 'edit-variables' })
      : null,
    h('h2', {}, 'Customer messages'),
    deliveries.length
      ? h('table', { class: 'grid', id: 'deliveries' },
        h('thead', {}, h('tr', {}, ['When', 'Message', 'Channel', 'To', 'Status',
          'Provider says', 'Error'].map((t) => h('th', {}, t)))),
        h('tbody', {}, deliveries))
      : h('p', { id: 'deliveries' }, 'None sent for this order.'),
    h('h2', {}, 'History'),
    h('table', { class: 'grid history' },
      h('thead', {}, h('tr', {}, ['#', 'Time', 'Event', 'Element', 'Detail']
        .map((t) => h('th', {}, t)))),
      h('tbody', {}, history)));

  await drawDiagram(canvas, xml, (viewer) => {
    const drawn = viewer.get('elementRegistry');
    const marks = viewer.get('canvas');
    const mark = (elementId, marker) => {
      if (elementId && drawn.get(elementId)) marks.addMarker(elementId, marker);
    };
    for (const e of instance.history) {
      if (e.kind === 'element-completed' || e.kind === 'flow-taken') mark(e.elementId, 'ordo-passed');
    }
    for (const e of instance.elements) mark(e.elementId, 'ordo-active');
    for (const i of instance.incidents) mark(i.elementId, 'ordo-incident');
  });
}
