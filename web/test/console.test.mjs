// The web console in a real browser: Debian's Chromium, headless, driven by playwright-core,
// against a real `ordo serve` with orders in its database. Run by ctest (tests/CMakeLists.txt):
//
//   node --test web/test/   with ORDO=build/cli/ordo (and CHROMIUM=/usr/bin/chromium)
//
// Screenshots go to ORDO_CONSOLE_SHOTS (default: the test's temporary directory).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');  // web/test -> the checkout
const ordo = resolve(process.env.ORDO ?? join(root, 'build/cli/ordo'));
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const READ = 'read-token-0123456789';
const WRITE = 'write-token-0123456789';
const HOSTILE_KEY = 'X-3<img src=x onerror="window.__hacked=1">';
const HOSTILE_NOTE = '</script><script>window.__hacked=2</script>';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitFor(check, what, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the web console', () => {
  let dir, server, base, browser, shots, gateway, log = '';
  const texts = [];  // what the SMS gateway was asked to send

  const api = async (method, path, body, token = WRITE, type = 'application/json') => {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text,
      json: () => JSON.parse(text) };
  };

  before(async () => {
    assert.ok(existsSync(ordo), `no ordo program at ${ordo}: build it first`);
    assert.ok(existsSync(browserPath),
      `no Chromium at ${browserPath}: scripts/install-deps --test installs Debian's chromium`);
    dir = mkdtempSync(join(tmpdir(), 'ordo-console-'));
    shots = process.env.ORDO_CONSOLE_SHOTS ?? join(dir, 'shots');
    mkdirSync(shots, { recursive: true });
    // An SMS gateway on loopback for the messages of an A/B experiment (task type
    // console.notify: the order process's own notify.send jobs are left alone).
    gateway = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        texts.push(JSON.parse(body).text);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ id: `sms-${texts.length}` }));
      });
    });
    await new Promise((ok) => gateway.listen(0, '127.0.0.1', ok));
    writeFileSync(join(dir, 'ordo.json'), JSON.stringify({
      server: { tokens: [{ token: READ, scopes: ['read'] },
        { token: WRITE, scopes: ['read', 'write', 'admin', 'worker'] }],
      alerts: { interval: 'PT1S',
        rules: [{ name: 'too-many-incidents', kind: 'incidents', above: 100 }] } },
      adapters: { 'console.notify': { adapter: 'notify' } },
      notifications: {
        templates: join(root, 'processes/templates'),
        deliveryLog: join(dir, 'deliveries.db'),
        channels: { sms: { url: `http://127.0.0.1:${gateway.address().port}/sms` } },
        rules: { 'order-shipped': ['sms'] },
        experiments: { 'shipped-copy': { message: 'order-shipped', outcome: 'done',
          variants: { control: 'order-shipped', short: 'order-shipped-short' } } },
      },
    }));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(ordo, ['serve', '--db', join(dir, 'ordo.db'), '--config', join(dir, 'ordo.json'),
      '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (d) => { log += d; });
    server.stderr.on('data', (d) => { log += d; });
    await waitFor(async () => (await fetch(`${base}/health`)).ok, `ordo serve to answer:\n${log}`);
    const xml = readFileSync(join(root, 'processes/order-acceptance.bpmn'), 'utf8');
    const deployed = await api('POST', '/v1/deployments', xml, WRITE, 'application/xml');
    assert.equal(deployed.status, 201, deployed.text);
    // No adapter handles its jobs here: each order waits at its first task, active. The
    // third one's key and a variable are what an attacker would send.
    for (const key of ['C-1', 'C-2', HOSTILE_KEY]) {
      const started = await api('POST', '/v1/process-instances', {
        processId: 'order-acceptance', businessKey: key,
        variables: { orderId: key, total: 10, currency: 'EUR', note: HOSTILE_NOTE,
          customer: { email: 'c@example.com', locale: 'en' }, items: [] },
      });
      assert.equal(started.status, 201, started.text);
    }
    browser = await chromium.launch({
      executablePath: browserPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    gateway?.close();
    if (dir && !process.env.ORDO_CONSOLE_SHOTS) rmSync(dir, { recursive: true, force: true });
  });

  // A page that records what the browser refused or failed at: a policy violation or a
  // script error fails the test that saw it.
  async function open(path = '/') {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems = [];
    // (Chromium also logs each refused request; the pages show those refusals themselves.)
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(base + path);
    return { page, problems };
  }

  it('serves its page with a strict policy, and its files to be cached for good', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const policy = res.headers.get('content-security-policy');
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const page = await res.text();
    assert.doesNotMatch(page, /<script>|<script [^>]*>[^<]/, 'no inline script');
    const script = page.match(/src="(\/assets\/[^"]+\.js)"/)[1];
    const js = await fetch(base + script);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    assert.match(js.headers.get('cache-control'), /immutable/);
    assert.equal((await fetch(`${base}/assets/nothing.js`)).status, 404);
    // The API's answers are no page either.
    const listed = await fetch(`${base}/v1/processes`, { headers: { Authorization: `Bearer ${READ}` } });
    assert.equal(listed.headers.get('x-content-type-options'), 'nosniff');
    assert.match(listed.headers.get('content-security-policy'), /default-src 'none'/);
  });

  it('asks for a token, keeps it in the tab only, and then lists the processes', async () => {
    const { page, problems } = await open();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').textContent(), /bearer token/);
    await page.fill('#token', READ);
    await page.click('text=Use');
    const row = page.locator('tr[data-process="order-acceptance"]');
    await row.waitFor();
    assert.equal(await row.locator('td[data-state="active"]').textContent(), '3');
    assert.equal(await row.locator('td[data-state="completed"]').textContent(), '0');
    assert.ok(!page.url().includes(READ), 'the token is not in the URL');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ordo.token')), READ);
    assert.deepEqual((await page.context().cookies()), [], 'no cookie');
    await page.screenshot({ path: join(shots, 'console-processes.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('draws a process on its diagram, with its versions to pick from', async () => {
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.click('a:text("order-acceptance")');
    await page.locator('#diagram[data-ready="true"]').waitFor();
    // bpmn-js drew the shipped process's elements.
    for (const id of ['order-received', 'check-availability', 'await-payment-confirmation']) {
      assert.equal(await page.locator(`#diagram [data-element-id="${id}"]`).count(), 1, id);
    }
    assert.match(await page.locator('#version').textContent(), /version 1/);
    assert.match(await page.locator('.count[data-state="active"]').textContent(), /3 active/);
    // A badge per element: the three orders passed the start event and wait at the
    // availability check; the table says the same.
    const badges = (id) => page.locator(`[data-badges="${id}"]`);
    assert.equal(await badges('order-received').locator('.badge.passed').textContent(), '3');
    assert.equal(await badges('check-availability').locator('.badge.active').textContent(), '3');
    assert.equal(await badges('await-payment-confirmation').count(), 0);
    const row = page.locator('#elements tr[data-element="check-availability"]');
    assert.deepEqual(await row.locator('td').allTextContents(),
      ['check-availability', '3', '0', '0', '0', '']);
    await page.screenshot({ path: join(shots, 'console-process.png') });
    // The heatmap of instances passed: only the start event has any, so it is the hottest.
    await page.selectOption('#heatmap', 'passed');
    await page.locator('#diagram[data-ready="true"]').waitFor();
    await waitFor(async () => /ordo-heat-5/.test(await page.locator(
      '#diagram [data-element-id="order-received"]').getAttribute('class')), 'the heatmap');
    assert.doesNotMatch(await page.locator('#diagram [data-element-id="check-availability"]')
      .getAttribute('class'), /ordo-heat/);
    await page.screenshot({ path: join(shots, 'console-heatmap.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('finds an order by its business key and shows where it stands on its diagram', async () => {
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.click('nav >> text=Instances');
    await page.locator('#instances').waitFor();
    assert.equal(await page.locator('#instances tbody tr').count(), 3);
    await page.fill('#business-key', 'C-2');
    await page.click('text=Find');
    await page.locator('#instances tbody tr').first().waitFor();
    await waitFor(async () => (await page.locator('#instances tbody tr').count()) === 1,
      'the list to show C-2 only');
    await page.locator('#instances a').first().click();
    await page.locator('#diagram[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#business-key').textContent(), 'C-2');
    assert.equal(await page.locator('#instance-state').textContent(), 'active');
    // It waits for its availability check: marked there; the start event is behind it.
    const at = page.locator('#diagram [data-element-id="check-availability"]');
    assert.match(await at.getAttribute('class'), /ordo-active/);
    const start = page.locator('#diagram [data-element-id="order-received"]');
    assert.match(await start.getAttribute('class'), /ordo-passed/);
    await page.screenshot({ path: join(shots, 'console-instance.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('finds orders by a variable', async () => {
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.click('nav >> text=Instances');
    await page.locator('#instances').waitFor();
    await page.fill('#variable', 'orderId = C-2');
    await page.click('text=Find');
    await waitFor(async () => (await page.locator('#instances tbody tr').count()) === 1,
      'the list to show C-2 only');
    assert.equal(await page.locator('#instances tbody tr td').nth(1).textContent(), 'C-2');
    await page.fill('#variable', 'total > 10');
    await page.click('text=Find');
    await page.locator('#none').waitFor();
    await page.fill('#variable', 'total >= 10');
    await page.click('text=Find');
    await waitFor(async () => (await page.locator('#instances tbody tr').count()) === 3,
      'all three orders');
    await page.screenshot({ path: join(shots, 'console-instances.png') });
    await page.fill('#variable', 'total > true');
    await page.click('text=Find');
    await page.locator('[role="alert"], .error').first().waitFor();
    assert.match(await page.locator('main').textContent(), /only with = or !=/);
    assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
    await page.close();
  });

  it('suspends an order after asking, shows its jobs parked, and resumes it', async () => {
    const { page, problems } = await open();
    await page.fill('#token', WRITE);
    await page.click('text=Use');
    await page.goto(`${base}/#/instances?businessKey=C-2`);
    await page.locator('#instances a').first().click();
    await page.locator('#diagram[data-ready="true"]').waitFor();
    const job = page.locator('#jobs tbody tr').first();
    assert.deepEqual((await job.locator('td').allTextContents()).slice(0, 3),
      ['check-availability', 'erp.check-availability', 'created']);
    assert.match(await page.locator('#deliveries').textContent(), /None sent/);
    await page.click('#suspend button');
    assert.match(await page.locator('#suspend .question').textContent(), /No job of it is handed out/);
    await page.click('#suspend [data-confirm="yes"]');
    await waitFor(async () => (await page.locator('#instance-state').textContent()) === 'suspended',
      'the instance to be suspended');
    // Its job is parked: locked by nobody that works, for as long as it is suspended.
    assert.deepEqual((await page.locator('#jobs tbody tr').first().locator('td').allTextContents())
      .slice(2, 7), ['locked', '3', '1', 'ordo:suspended', '']);
    await page.screenshot({ path: join(shots, 'console-suspended.png'), fullPage: true });
    await page.click('#resume button');
    await page.click('#resume [data-confirm="yes"]');
    await waitFor(async () => (await page.locator('#instance-state').textContent()) === 'active',
      'the instance to be active again');
    assert.equal(await page.locator('#jobs tbody tr').first().locator('td').nth(2).textContent(),
      'created');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows business keys and variables that hold markup as text, and runs none of it', async () => {
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.goto(`${base}/#/instances?businessKey=${encodeURIComponent(HOSTILE_KEY)}`);
    const cell = page.locator('#instances tbody tr td').nth(1);
    await cell.waitFor();
    assert.equal(await cell.textContent(), HOSTILE_KEY);
    assert.equal(await page.locator('#instances img').count(), 0, 'no element made of the key');
    await page.locator('#instances a').first().click();
    await page.locator('#variables').waitFor();
    assert.equal(await page.locator('#business-key').textContent(), HOSTILE_KEY);
    assert.match(await page.locator('#variables').textContent(), /<\/script><script>window.__hacked=2/);
    assert.equal(await page.locator('main img, main script').count(), 0);
    assert.equal(await page.evaluate(() => window.__hacked), undefined, 'nothing ran');
    assert.deepEqual(problems, []);
    await page.close();
  });
  it('shows a read token no action, and the API refuses a forged one', async () => {
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.goto(`${base}/#/instances?businessKey=C-1`);
    await page.locator('#instances a').first().click();
    await page.locator('#diagram[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#cancel').count(), 0, 'no cancel button');
    assert.equal(await page.locator('#suspend').count(), 0, 'no suspend button');
    assert.equal(await page.locator('button', { hasText: 'Retry' }).count(), 0);
    const id = await page.evaluate(() => location.hash.split('/').pop());
    const forged = await page.evaluate(async ([instance, token]) => (await fetch(
      `/v1/process-instances/${instance}/cancel`,
      { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status, [id, READ]);
    assert.equal(forged, 403);
    assert.deepEqual(problems.filter((p) => !/status of 403/.test(p)), []);
    await page.close();
  });

  it('retries an incident after asking, and the order moves on', async () => {
    // C-1's availability check fails for good: an incident.
    const fetched = await api('POST', '/v1/jobs/fetch-and-lock', {
      workerId: 'erp-1', types: ['erp.check-availability'], maxJobs: 1, lockDuration: 'PT1M' });
    assert.equal(fetched.status, 200, fetched.text);
    const [job] = fetched.json().jobs;
    assert.equal(job.businessKey, 'C-1');
    const failed = await api('POST', `/v1/jobs/${job.key}/fail`,
      { workerId: 'erp-1', errorMessage: 'ERP answered 503', retries: 0 });
    assert.equal(failed.status, 200, failed.text);

    const { page, problems } = await open();
    await page.fill('#token', WRITE);
    await page.click('text=Use');
    // Found by its incident's message, in any case.
    await page.goto(`${base}/#/instances?incidentMessage=erp%20ANSWERED`);
    await page.locator('#instances').waitFor();
    assert.deepEqual(await page.locator('#instances tbody tr td:nth-child(2)').allTextContents(),
      ['C-1']);
    await page.goto(`${base}/#/instances?state=incident`);
    await page.locator('#instances a').first().click();
    await page.locator('#diagram[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#instance-state').textContent(), 'incident');
    assert.match(await page.locator('#incidents').textContent(), /ERP answered 503/);
    const at = page.locator('#diagram [data-element-id="check-availability"]');
    assert.match(await at.getAttribute('class'), /ordo-incident/);
    await page.screenshot({ path: join(shots, 'console-incident.png'), fullPage: true });
    // Plain Retry asks first; backing out changes nothing.
    await page.click('[data-retry] button');
    assert.match(await page.locator('[data-retry] .question').textContent(), /Retry check-availability/);
    await page.click('[data-retry] [data-confirm="no"]');
    // Retried with a changed variable: what is not a JSON object is refused, and says why.
    await page.click('[data-retry-with] button');
    await page.fill('[data-retry-with] textarea', '{"warehouse": ');
    await page.click('[data-retry-with] [data-confirm="yes"]');
    assert.match(await page.locator('[data-retry-with] .error').textContent(), /Not saved/);
    await page.fill('[data-retry-with] textarea', '{"warehouse": "B"}');
    await page.click('[data-retry-with] [data-confirm="yes"]');
    await waitFor(async () => (await page.locator('#instance-state').textContent()) === 'active',
      'the instance to be active again');
    assert.equal(await page.locator('#incidents').count(), 0);
    assert.match(await page.locator('#variables').textContent(), /"warehouse": "B"/);
    // The job is there again: a worker completes it, and the order goes on.
    const again = await api('POST', '/v1/jobs/fetch-and-lock', {
      workerId: 'erp-1', types: ['erp.check-availability'], maxJobs: 5, lockDuration: 'PT1M' });
    const retried = again.json().jobs.find((j) => j.businessKey === 'C-1');
    assert.ok(retried, again.text);
    const done = await api('POST', `/v1/jobs/${retried.key}/complete`,
      { workerId: 'erp-1', variables: { available: true } });
    assert.equal(done.status, 200, done.text);
    await page.reload();
    await page.locator('#diagram[data-ready="true"]').waitFor();
    assert.match(await page.locator('#diagram [data-element-id="check-availability"]')
      .getAttribute('class'), /ordo-passed/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('cancels an order only once asked twice', async () => {
    const { page, problems } = await open();
    await page.fill('#token', WRITE);
    await page.click('text=Use');
    await page.goto(`${base}/#/instances?businessKey=C-2`);
    await page.locator('#instances a').first().click();
    await page.locator('#cancel button').waitFor();
    await page.click('#cancel button');
    await page.click('#cancel [data-confirm="no"]');
    assert.equal(await page.locator('#instance-state').textContent(), 'active', 'backed out');
    await page.click('#cancel button');
    await page.click('#cancel [data-confirm="yes"]');
    await waitFor(async () => (await page.locator('#instance-state').textContent()) === 'terminated',
      'the instance to be terminated');
    assert.equal(await page.locator('#cancel').count(), 0, 'nothing left to cancel');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('groups incidents by process, element and message, and retries a group at once', async () => {
    for (const key of ['D-1', 'D-2']) {
      const started = await api('POST', '/v1/process-instances', {
        processId: 'order-acceptance', businessKey: key, variables: { orderId: key } });
      assert.equal(started.status, 201, started.text);
    }
    const fetched = await api('POST', '/v1/jobs/fetch-and-lock', {
      workerId: 'erp-2', types: ['erp.check-availability'], maxJobs: 10, lockDuration: 'PT1M' });
    const mine = fetched.json().jobs.filter((j) => j.businessKey?.startsWith('D-'));
    assert.equal(mine.length, 2, fetched.text);
    for (const job of mine) {
      const failed = await api('POST', `/v1/jobs/${job.key}/fail`,
        { workerId: 'erp-2', errorMessage: 'ERP down', retries: 0 });
      assert.equal(failed.status, 200, failed.text);
    }
    const { page, problems } = await open();
    await page.fill('#token', WRITE);
    await page.click('text=Use');
    await page.click('nav >> text=Incidents');
    const group = page.locator('#incident-groups tbody tr').filter({ hasText: 'ERP down' });
    await group.waitFor();
    assert.equal(await group.locator('td.num').textContent(), '2');
    assert.match(await group.locator('td.orders').textContent(), /D-1.*D-2/);
    await page.screenshot({ path: join(shots, 'console-incidents.png') });
    await group.locator('button', { hasText: 'Retry all 2' }).click();
    await group.locator('[data-confirm="yes"]').click();
    await waitFor(async () => (await page.locator('#none').count()) === 1, 'no incident left');
    for (const key of ['D-1', 'D-2']) {
      const listed = await api('GET', `/v1/process-instances?businessKey=${key}`, undefined, READ);
      assert.equal(listed.json().instances[0].state, 'active', key);
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows the A/B experiment on the dashboard, each variant with its intervals', async () => {
    const shipped = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
      'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t">' +
      '<process id="tell" isExecutable="true"><startEvent id="s"/>' +
      '<serviceTask id="notify"><extensionElements><zeebe:taskDefinition type="console.notify"/>' +
      '<zeebe:taskHeaders><zeebe:header key="template" value="order-shipped"/></zeebe:taskHeaders>' +
      '</extensionElements></serviceTask><endEvent id="done"/>' +
      '<sequenceFlow id="f1" sourceRef="s" targetRef="notify"/>' +
      '<sequenceFlow id="f2" sourceRef="notify" targetRef="done"/></process></definitions>';
    assert.equal((await api('POST', '/v1/deployments', shipped, WRITE, 'application/xml')).status, 201);
    for (let i = 0; i < 16; i++) {
      const started = await api('POST', '/v1/process-instances', {
        processId: 'tell', businessKey: `T-${i}`,
        variables: { orderId: `T-${i}`, customer: { id: `K-${i}`, phone: '+4915123456789' } },
      });
      assert.equal(started.status, 201, started.text);
    }
    await waitFor(() => texts.length === 16, 'sixteen texts to be sent');
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.click('nav >> text=Dashboard');
    // The report is recomputed every 15 s at most: the page shows it once it is.
    await waitFor(async () => (await page.locator(
      '#experiments tr[data-variant="control"][data-segment="(all)"]').count()) === 1 &&
      (await page.locator('#experiments tr[data-variant="short"][data-segment="(all)"]').count()) === 1,
    'both variants on the dashboard', 30000);
    const sent = async (variant) => Number(await page.locator(
      `#experiments tr[data-variant="${variant}"][data-segment="(all)"] td:nth-child(3)`).textContent());
    assert.equal((await sent('control')) + (await sent('short')), 16);
    // Every order reached `done` after its message: 100% in both, no clear difference.
    assert.match(await page.locator('#experiments tr[data-variant="short"][data-segment="(all)"]')
      .textContent(), /100\.0% \(\d/);
    assert.match(await page.locator('#experiments .headline li[data-kpi="converted"]').textContent(),
      /short vs control, converted: \+0\.0 points .*no clear difference/);
    await page.screenshot({ path: join(shots, 'console-experiments.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows a live dashboard that counts orders as they complete', async () => {
    const quick = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
      'targetNamespace="t"><process id="quick" isExecutable="true"><startEvent id="s"/>' +
      '<endEvent id="done"/><sequenceFlow id="f" sourceRef="s" targetRef="done"/></process>' +
      '</definitions>';
    assert.equal((await api('POST', '/v1/deployments', quick, WRITE, 'application/xml')).status, 201);
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.click('nav >> text=Dashboard');
    await page.locator('#completed-total').waitFor();
    const completed = async () => Number((await page.locator('#completed-total b').textContent())
      .replace(/,/g, ''));
    const before = await completed();
    assert.match(await page.locator('#alerts tr[data-rule="too-many-incidents"]').textContent(),
      /incidents.*ok/);
    for (let i = 0; i < 3; i++) {
      assert.equal((await api('POST', '/v1/process-instances', { processId: 'quick' })).status, 201);
    }
    // No reload: the page asks again by itself.
    await waitFor(async () => (await completed()) === before + 3, 'the three orders to be counted');
    await page.locator('#cycle-times tr[data-end="quick/done"]').waitFor();
    // This minute's bar of completed orders is drawn, as tall as its count says.
    const tallest = await page.locator('svg.bars rect.completed').evaluateAll(
      (rects) => Math.max(...rects.map((r) => Number(r.getAttribute('height')))));
    assert.ok(tallest > 0, 'a bar of completed orders is drawn');
    assert.match(await page.locator('#jobs').textContent(), /erp\.check-availability/);
    await page.screenshot({ path: join(shots, 'console-dashboard.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('edits an order\'s variables with a write token', async () => {
    const { page, problems } = await open();
    await page.fill('#token', WRITE);
    await page.click('text=Use');
    await page.goto(`${base}/#/instances?businessKey=${encodeURIComponent(HOSTILE_KEY)}`);
    await page.locator('#instances a').first().click();
    await page.locator('#edit-variables button').click();
    const text = JSON.parse(await page.locator('#edit-variables textarea').inputValue());
    assert.equal(text.note, HOSTILE_NOTE, 'the editor starts from the variables as they are');
    await page.fill('#edit-variables textarea', '{"giftWrap": true}');
    await page.click('#edit-variables [data-confirm="yes"]');
    await waitFor(async () => /"giftWrap": true/.test(await page.locator('#variables').textContent()),
      'the new variable to show');
    assert.match(await page.locator('#variables').textContent(), /"orderId"/, 'the others stay');
    assert.equal(await page.evaluate(() => window.__hacked), undefined);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('cancels every running order a filter matches, showing the count before it asks', async () => {
    const { page, problems } = await open();
    await page.fill('#token', READ);
    await page.click('text=Use');
    await page.goto(`${base}/#/instances?businessKeyPrefix=D-`);
    await page.locator('#instances').waitFor();
    assert.equal(await page.locator('#bulk-cancel button').count(), 0, 'not for a read token');
    await page.fill('#token', WRITE);
    await page.click('text=Use');
    await page.locator('#bulk-cancel button').waitFor();
    await page.click('#bulk-cancel button');
    assert.match(await page.locator('#bulk-cancel .question').textContent(),
      /Cancel 2 running instances matching these filters/);
    await page.click('#bulk-cancel [data-confirm="yes"]');
    await waitFor(async () => (await page.locator('#instances tbody tr td:nth-child(4)')
      .allTextContents()).every((s) => s === 'terminated'), 'both to be terminated');
    assert.equal(await page.locator('#instances tbody tr').count(), 2);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
