// Instances: found by business key, process and state, newest first... as the API lists them
// (by id); each links to its page.
import { get } from '../api.js';
import { h, link, show, when } from '../dom.js';

const STATES = ['', 'active', 'incident', 'completed', 'terminated'];

export async function instancesPage(main, params, current) {
  const query = new URLSearchParams();
  for (const name of ['businessKey', 'processId', 'state']) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  query.set('limit', '200');
  const [{ processes }, { instances }] = await Promise.all([
    get('/v1/processes'), get(`/v1/process-instances?${query}`)]);
  if (!current()) return;

  const field = (name, input) => h('label', {}, h('span', {}, name), input);
  const key = h('input', { name: 'businessKey', value: params.get('businessKey') ?? '',
    placeholder: 'order number', spellcheck: 'false', id: 'business-key' });
  const process = h('select', { name: 'processId', id: 'process' },
    h('option', { value: '' }, 'any process'),
    processes.map((p) => h('option', { value: p.processId,
      selected: p.processId === params.get('processId') }, p.processId)));
  const state = h('select', { name: 'state', id: 'state' },
    STATES.map((s) => h('option', { value: s, selected: s === (params.get('state') ?? '') },
      s || 'any state')));
  const form = h('form', { class: 'filters', id: 'filters', on: { submit: (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [n, v] of new FormData(form)) if (v) next.set(n, v);
    location.hash = `#/instances?${next}`;
  } } }, field('Business key', key), field('Process', process), field('State', state),
  h('button', { type: 'submit' }, 'Find'));

  const rows = instances.map((i) => h('tr', { 'data-instance': i.id },
    h('td', { class: 'num' }, h('a', { href: link('instances', i.id) }, i.id)),
    h('td', {}, i.businessKey ?? ''),
    h('td', {}, i.processId, h('small', {}, ` v${i.version}`)),
    h('td', { class: i.state === 'incident' ? 'alert' : '' }, i.state),
    h('td', {}, when(Date.parse(i.startedAt))),
    h('td', {}, i.endedAt ? when(Date.parse(i.endedAt)) : ''),
    h('td', {}, i.endEvent ?? '')));
  show(main,
    h('h1', {}, 'Instances'),
    form,
    instances.length === 0
      ? h('p', { id: 'none' }, 'No instance matches.')
      : h('table', { class: 'grid', id: 'instances' },
        h('thead', {}, h('tr', {}, ['Id', 'Business key', 'Process', 'State', 'Started',
          'Ended', 'End event'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)));
}
