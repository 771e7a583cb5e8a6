// The dashboard, live: orders started and completed per minute, cycle times to each end
// event, open incidents, jobs by type, deliveries by channel, the A/B experiments, and the
// alert rules; asked for again every few seconds while the page is shown.
import { ApiError, get } from '../api.js';
import { duration, h, number, show } from '../dom.js';

const EVERY_MS = 3000;

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) {
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Two series of bars per minute (started, completed), the newest on the right.
function bars(started, completed) {
  const width = 640, height = 120, n = started.length, top = Math.max(1, ...started, ...completed);
  const w = width / n;
  const bar = (values, offset, cls) => values.map((v, i) => {
    const hgt = (v / top) * (height - 14);
    return svg('rect', { class: cls, x: i * w + offset, y: height - hgt, width: w / 2 - 1, height: hgt },
      svg('title', {}, `${v}`));
  });
  return svg('svg', { class: 'bars', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': 'orders started and completed per minute' },
  bar(started, 0, 'started'), bar(completed, w / 2, 'completed'),
  svg('text', { x: 4, y: 11 }, `max ${top}/min`));
}


// "45.4% (40.6–50.2)": a share with its 95% interval.
function share(p) {
  const pct = (x) => (100 * x).toFixed(1);
  return `${pct(p.rate)}% (${pct(p.low)}–${pct(p.high)})`;
}

// The experiments' report (GET /v1/notifications/experiments): a table per experiment, its
// variants over all segments and then per segment, and the headline under it.
function experimentsView(report) {
  if (report === null) return h('p', {}, 'Notifications are not configured (ordo.json).');
  if (report.error !== undefined) {
    return h('p', { class: 'alert' }, `The experiments' report failed: ${report.error}`);
  }
  if (report.experiments.length === 0) return h('p', {}, 'No message sent in an experiment yet.');
  return report.experiments.map((e) => {
    const outcome = e.outcome !== undefined;
    const heads = ['Variant', 'Segment', 'Sent', 'Delivered', 'Opened', 'Clicked'];
    if (outcome) heads.push(`Reached ${e.outcome}`);
    const row = (variant, segment, t) => h('tr', { 'data-variant': variant, 'data-segment': segment },
      h('td', {}, variant), h('td', {}, segment), h('td', { class: 'num' }, number(t.sent)),
      h('td', { class: 'num' }, share(t.delivered)), h('td', { class: 'num' }, share(t.opened)),
      h('td', { class: 'num' }, share(t.clicked)),
      outcome ? h('td', { class: 'num' }, share(t.converted)) : null);
    const pts = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
    return h('section', { class: 'experiment', 'data-experiment': e.experiment },
      h('h3', {}, e.experiment, h('small', {}, ` against ${e.control}`)),
      h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))),
        h('tbody', {},
          e.variants.map((v) => row(v.variant, '(all)', v.all)),
          e.variants.flatMap((v) => Object.entries(v.segments).map(([s, t]) => row(v.variant, s, t))))),
      h('ul', { class: 'headline' }, e.headline.map((x) =>
        h('li', { class: x.verdict === 'better' ? 'better' : x.verdict === 'worse' ? 'alert' : '',
          'data-kpi': x.kpi },
        `${x.variant} vs ${x.against}, ${x.kpi}: ${pts(x.difference)} points `,
        `(95%: ${pts(x.low)} to ${pts(x.high)}), ${x.verdict}`))));
  });
}

export async function dashboardPage(main, current) {
  while (current()) {
    const d = await get('/v1/dashboard');
    // The experiments' report failing (a busy delivery log) leaves the rest of the page be.
    const experiments = await get('/v1/notifications/experiments').catch((e) => {
      if (e instanceof ApiError && e.status === 404) return null;
      return { error: e.message };
    });
    if (!current()) return;
    const sum = (key) => d.minutes.map((_, i) => d.processes.reduce((t, p) => t + p[key][i], 0));
    const started = sum('started'), completed = sum('completed');
    const last = (a) => a[a.length - 1] ?? 0;
    const total = (a) => a.reduce((t, v) => t + v, 0);
    const card = (label, value, id, alert = false) =>
      h('div', { class: `card${alert ? ' alert' : ''}`, id }, h('b', {}, value), h('span', {}, label));
    const deliveries = new Map();
    for (const c of d.deliveries) {
      const row = deliveries.get(c.channel) ?? { sent: 0, other: 0 };
      if (c.status === 'sent') row.sent += c.count; else row.other += c.count;
      deliveries.set(c.channel, row);
    }
    show(main,
      h('h1', {}, 'Dashboard', h('small', { class: 'live' }, `live, every ${EVERY_MS / 1000} s`)),
      h('div', { class: 'cards' },
        card('started this minute', number(last(started)), 'started-now'),
        card('completed this minute', number(last(completed)), 'completed-now'),
        card(`started in ${d.minutes.length} min`, number(total(started)), 'started-total'),
        card(`completed in ${d.minutes.length} min`, number(total(completed)), 'completed-total'),
        card('open incidents', number(d.incidentsOpen), 'incidents-open', d.incidentsOpen > 0)),
      h('h2', {}, 'Orders per minute ', h('span', { class: 'key started' }, 'started'), ' ',
        h('span', { class: 'key completed' }, 'completed')),
      bars(started, completed),
      h('h2', {}, 'Alert rules'),
      d.alerts.length === 0 ? h('p', {}, 'No rule is configured (server.alerts in ordo.json).')
        : h('table', { class: 'grid', id: 'alerts' },
          h('thead', {}, h('tr', {}, ['Rule', 'Kind', 'Value', 'Threshold', 'State'].map((t) => h('th', {}, t)))),
          h('tbody', {}, d.alerts.map((a) => h('tr', { 'data-rule': a.name },
            h('td', {}, a.name), h('td', {}, a.kind),
            h('td', { class: 'num' }, a.value === null ? 'no data' : `${+a.value.toFixed(3)}`),
            h('td', { class: 'num' }, `${a.threshold}`),
            h('td', { class: a.firing ? 'alert' : '' }, a.firing ? 'firing' : 'ok'))))),
      h('h2', {}, 'Cycle times (last hour)'),
      h('table', { class: 'grid', id: 'cycle-times' },
        h('thead', {}, h('tr', {}, ['Process', 'End event', 'Orders', 'p50', 'p95'].map((t) => h('th', {}, t)))),
        h('tbody', {}, d.processes.flatMap((p) => p.cycleTimes.map((c) =>
          h('tr', { 'data-end': `${p.processId}/${c.endEvent}` },
            h('td', {}, p.processId), h('td', {}, c.endEvent), h('td', { class: 'num' }, number(c.count)),
            h('td', { class: 'num' }, duration(c.p50Ms)), h('td', { class: 'num' }, duration(c.p95Ms))))))),
      h('h2', {}, 'Jobs by type'),
      h('table', { class: 'grid', id: 'jobs' },
        h('thead', {}, h('tr', {}, ['Type', 'Created', 'Completed', 'Failed', 'BPMN errors', 'Mean', 'p95 under']
          .map((t) => h('th', {}, t)))),
        h('tbody', {}, d.jobs.map((j) => h('tr', { 'data-type': j.type },
          h('td', {}, j.type), h('td', { class: 'num' }, number(j.created)),
          h('td', { class: 'num' }, number(j.completed)),
          h('td', { class: j.failed ? 'num alert' : 'num' }, number(j.failed)),
          h('td', { class: 'num' }, number(j.errors)),
          h('td', { class: 'num' }, duration(j.meanMs)), h('td', { class: 'num' }, duration(j.p95Ms)))))),
      h('h2', {}, 'Deliveries by channel'),
      deliveries.size === 0 ? h('p', {}, 'No message sent yet.')
        : h('table', { class: 'grid', id: 'deliveries' },
          h('thead', {}, h('tr', {}, ['Channel', 'Sent', 'Not sent', 'Rate'].map((t) => h('th', {}, t)))),
          h('tbody', {}, [...deliveries].map(([channel, c]) => h('tr', {},
            h('td', {}, channel), h('td', { class: 'num' }, number(c.sent)),
            h('td', { class: 'num' }, number(c.other)),
            h('td', { class: 'num' }, `${((100 * c.sent) / Math.max(1, c.sent + c.other)).toFixed(1)} %`))))),
      h('h2', {}, 'Experiments'),
      h('div', { id: 'experiments' }, experimentsView(experiments)),
      h('p', { class: 'crumbs' }, 'Orders, cycle times, incidents, deliveries and experiments ',
        'are the database\'s (every node\'s). Jobs and alert rules are this server\'s, since it ',
        'started. A cycle time is its histogram bucket\'s upper bound: at most 25% above. ',
        'Experiments are recomputed at most every 15 s; opens are a lower bound (mail apps ',
        'block the pixel) or inflated (they fetch it ahead), so judge by what the orders did.'));
    main.dataset.updated = String(d.now);
    await new Promise((r) => setTimeout(r, EVERY_MS));
  }
}
