// Instances: found by the start of their business key, process and version, state, end
// event, start date, a variable (`total > 100`) and an open incident's message; newest first, a page at a time (keyset: "Older" continues after the
// last one shown). Each links to its page.
import { get, post, scopes } from '../api.js';
import { h, link, refresh, show, when } from '../dom.js';

const STATES = ['', 'active', 'incident', 'suspended', 'completed', 'terminated'];
const RUNNING = ['active', 'incident', 'suspended'];
const PAGE = 50;

// The form's names are the API's query names (the date fields become ISO 8601 times).
const FIELDS = ['businessKeyPrefix', 'processId', 'version', 'state', 'endEvent',
  'startedFrom', 'startedTo', 'variable', 'incidentMessage'];

export async function instancesPage(main, params, current) {
  const query = new URLSearchParams({ order: 'newest', limit: String(PAGE) });
  for (const name of FIELDS) {
    const v = params.get(name);
    if (!v) continue;
    query.set(name, name.startsWith('started') ? new Date(`${v}T00:00:00Z`).toISOString() : v);
  }
  // Older links keep the old name: a business key given as businessKey (an order's number).
  if (params.get('businessKey')) query.set('businessKeyPrefix', params.get('businessKey'));
  if (params.get('after')) query.set('after', params.get('after'));
  const [{ processes }, { instances, next }, may] = await Promise.all([
    get('/v1/processes'), get(`/v1/process-instances?${query}`), scopes()]);
  if (!current()) return;

  const value = (name) => params.get(name) ?? (name === 'businessKeyPrefix' ? params.get('businessKey') ?? '' : '');
  const field = (label, input) => h('label', {}, h('span', {}, label), input);
  const key = h('input', { name: 'businessKeyPrefix', value: value('businessKeyPrefix'),
    placeholder: 'order number, or its start', spellcheck: 'false', id: 'business-key' });
  const process = h('select', { name: 'processId', id: 'process' },
    h('option', { value: '' }, 'any process'),
    processes.map((p) => h('option', { value: p.processId,
      selected: p.processId === params.get('processId') }, p.processId)));
  const version = h('input', { name: 'version', type: 'number', min: 1, value: value('version'),
    placeholder: 'any', id: 'version-filter', class: 'narrow' });
  const state = h('select', { name: 'state', id: 'state' },
    STATES.map((s) => h('option', { value: s, selected: s === value('state') }, s || 'any state')));
  const end = h('input', { name: 'endEvent', value: value('endEvent'), placeholder: 'any',
    id: 'end-event', spellcheck: 'false' });
  const from = h('input', { name: 'startedFrom', type: 'date', value: value('startedFrom'), id: 'from' });
  const to = h('input', { name: 'startedTo', type: 'date', value: value('startedTo'), id: 'to' });
  const variable = h('input', { name: 'variable', value: value('variable'), id: 'variable',
    placeholder: 'total > 100, status = paid', spellcheck: 'false' });
  const incident = h('input', { name: 'incidentMessage', value: value('incidentMessage'),
    id: 'incident-message', placeholder: 'any', spellcheck: 'false' });
  const form = h('form', { class: 'filters', id: 'filters', on: { submit: (e) => {
    e.preventDefault();
    const chosen = new URLSearchParams();
    for (const [n, v] of new FormData(form)) if (v) chosen.set(n, v);
    location.hash = `#/instances?${chosen}`;
  } } }, field('Business key', key), field('Process', process), field('Version', version),
  field('State', state), field('End event', end), field('Started from', from),
  field('before', to), field('Variable', variable), field('Incident message', incident),
  h('button', { type: 'submit' }, 'Find'));

  const rows = instances.map((i) => h('tr', { 'data-instance': i.id },
    h('td', { class: 'num' }, h('a', { href: link('instances', i.id) }, i.id)),
    h('td', {}, i.businessKey ?? ''),
    h('td', {}, i.processId, h('small', {}, ` v${i.version}`)),
    h('td', { class: i.state === 'incident' ? 'alert' : '' }, i.state),
    h('td', {}, when(Date.parse(i.startedAt))),
    h('td', {}, i.endedAt ? when(Date.parse(i.endedAt)) : ''),
    h('td', {}, i.endEvent ?? '')));
  const older = new URLSearchParams(params);
  older.delete('businessKey');
  if (params.get('businessKey')) older.set('businessKeyPrefix', params.get('businessKey'));
  older.set('after', String(next));
  // Cancel what the filters match (the running instances among them): counted first, then
  // asked, then done. Every filter of the page goes along; none is offered when the page
  // shows finished instances only.
  const filter = {};
  for (const name of ['processId', 'businessKeyPrefix', 'variable', 'incidentMessage',
    'startedFrom', 'startedTo', 'endEvent']) {
    if (query.get(name)) filter[name] = query.get(name);
  }
  if (query.get('version')) filter.version = Number(query.get('version'));
  if (query.get('state')) filter.state = query.get('state');
  const cancellable = !filter.endEvent && (!filter.state || RUNNING.includes(filter.state));
  const bulk = h('span', { class: 'action', id: 'bulk-cancel' });
  const offer = () => show(bulk, h('button', { on: { click: ask } }, 'Cancel all matching…'));
  const ask = async () => {
    try {
      const { count, more } = await post('/v1/process-instances/cancel', { ...filter, dryRun: true });
      if (count === 0) {
        show(bulk, 'No running instance matches.');
        return;
      }
      show(bulk, h('span', { class: 'question' },
        `Cancel ${count}${more ? ' (of more)' : ''} running instance${count === 1 ? '' : 's'} ` +
        'matching these filters? They end where they stand and cannot go on. '),
      h('button', { class: 'danger', 'data-confirm': 'yes', on: { click: async (e) => {
        e.target.disabled = true;
        try {
          const done = await post('/v1/process-instances/cancel', filter);
          if (done.failed.length) throw new Error(`${done.cancelled} cancelled; ${done.failed.length} could not be`);
          refresh();
        } catch (err) {
          show(bulk, h('span', { class: 'error', role: 'alert' }, err.message));
        }
      } } }, `Cancel ${count}`), ' ',
      h('button', { 'data-confirm': 'no', on: { click: offer } }, 'No'));
    } catch (err) {
      show(bulk, h('span', { class: 'error', role: 'alert' }, err.message));
    }
  };
  if (may.includes('write') && cancellable && (filter.processId || filter.businessKeyPrefix)) {
    offer();
  }
  show(main,
    h('h1', {}, 'Instances'),
    form,
    bulk,
    instances.length === 0
      ? h('p', { id: 'none' }, 'No instance matches.')
      : h('table', { class: 'grid', id: 'instances' },
        h('thead', {}, h('tr', {}, ['Id', 'Business key', 'Process', 'State', 'Started',
          'Ended', 'End event'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows)),
    h('p', { class: 'pager' },
      params.get('after') ? h('a', { href: '#/instances', id: 'newest' }, 'Newest') : null, ' ',
      next !== null ? h('a', { href: `#/instances?${older}`, id: 'older' }, 'Older →') : null));
}
