// The console: a page per hash route (#/, #/processes/{id}), each reading the /v1 API.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import './style.css';

import { setToken, token } from './api.js';
import { h, show } from './dom.js';
import { processesPage } from './pages/processes.js';
import { processPage } from './pages/process.js';
import { instancesPage } from './pages/instances.js';
import { instancePage } from './pages/instance.js';
import { incidentsPage } from './pages/incidents.js';
import { dashboardPage } from './pages/dashboard.js';

const main = document.getElementById('main');

// Each page: (match, current) => shows itself in `main`; current() is false once the user
// has moved on, and the page then leaves `main` alone.
const routes = [
  [/^#?\/?$/, (m, current) => processesPage(main, current)],
  [/^#\/processes\/([^/?]+)(?:\?(.*))?$/, (m, current) =>
    processPage(main, decodeURIComponent(m[1]), new URLSearchParams(m[2] ?? ''), current)],
  [/^#\/instances(?:\?(.*))?$/, (m, current) =>
    instancesPage(main, new URLSearchParams(m[1] ?? ''), current)],
  [/^#\/instances\/(\d+)$/, (m, current) => instancePage(main, m[1], current)],
  [/^#\/incidents$/, (m, current) => incidentsPage(main, current)],
  [/^#\/dashboard$/, (m, current) => dashboardPage(main, current)],
];

let shown = 0;  // a page that finishes loading after the user moved on is not shown

async function render() {
  const mine = ++shown;
  const here = location.hash || '#/';
  for (const [pattern, page] of routes) {
    const m = here.match(pattern);
    if (!m) continue;
    try {
      await page(m, () => mine === shown);
    } catch (e) {
      if (mine !== shown) return;
      show(main, h('p', { class: 'error', role: 'alert' }, e.message),
        e.status === 401 || e.status === 403
          ? h('p', {}, 'Enter a token with the read scope above.') : null);
    }
    return;
  }
  show(main, h('p', { class: 'error' }, 'No such page: ', here));
}

const form = document.getElementById('token-form');
const input = document.getElementById('token');
input.value = token();
form.addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(input.value.trim());
  render();
});
window.addEventListener('hashchange', render);
render();
