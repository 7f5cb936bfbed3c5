import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { TokenStore } from '../src/api/index.js';
import type { ControlPlane } from '../src/cli/control-plane.js';
import { startControlPlane } from '../src/cli/control-plane.js';
import { createDaemonLog } from '../src/observe/index.js';

import { copyWebapp, get } from './support/engine.js';

/**
 * The dashboard end to end: a real control plane (daemon, proxy, API) in
 * this process, the test web app deployed by it, and Debian's Chromium
 * driven by playwright-core. Screenshots go to docs/screenshots/ (the
 * README shows dashboard.png).
 */

const CHROMIUM = '/usr/bin/chromium';
/** Two canaries: a hidden parameter's value and a Drover::Secret's content. */
const HIDDEN = 'canary-7f3a-hidden-param-9d2e';
const SECRET = 'canary-4c1b-secret-file-e85a';
const CANARY_DEPLOY = {
  strategy: 'canary',
  steps: [
    { weight: 20, pause: '1500ms' },
    { weight: 60, pause: '1500ms' },
  ],
};
const SCREENSHOTS = new URL('../docs/screenshots/', import.meta.url).pathname;
/** Generous: a loaded two-core machine starts processes slowly. Waits are on what the page shows. */
const WAIT = { timeout: 45_000 };

/** The web app with a hidden parameter in its environment and a secret file mounted. */
const STACK = `drover_template_version: 2026-11-21
description: The test web app, with a hidden parameter and a secret
parameters:
  version: { type: string, default: "1" }
  api_key: { type: string, hidden: true, default: ${HIDDEN} }
  deploy:
    type: json
    default: { strategy: blue-green, keep_previous: 1s }
resources:
  app:
    type: Drover::Artifact
    properties: { context: . }
  signing_key:
    type: Drover::Secret
    properties: { content: ${SECRET} }
  web:
    type: Drover::Service
    properties:
      artifact: { get_resource: app }
      command: [node, server.js]
      replicas: 2
      env:
        VERSION: { get_param: version }
        API_KEY: { get_param: api_key }
      secrets: [ { secret: { get_resource: signing_key }, path: secrets/key } ]
      health: { http: /healthz, interval: 100ms, timeout: 5s, unhealthy_threshold: 5 }
      deploy: { get_param: deploy }
      stop_grace: 1s
  route:
    type: Drover::Route
    properties: { host: web.localhost, service: { get_resource: web } }
`;

let home: string;
let dir: string;
let file: string;
let plane: ControlPlane;
let browser: Browser;
let url: string;
const tokens = { deployer: '', viewer: '' };
/** Everything the daemon logged, and told as warnings or errors. */
const logged: string[] = [];
/** Every API answer the pages received, and the HTML of every view shown. */
const seen: Promise<string>[] = [];
const pages: string[] = [];
const revisions = { v1: '', v2: '' };
let failed = false;
/** Uncaught errors and console errors of the pages (content security policy refusals included). */
const problems: string[] = [];

const short = (id: string): string => id.slice(0, 12);

/** A page that records every API answer it gets (the event stream never ends: it is read apart). */
async function openPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    // The refused token of the first sign-in shows as a failed load: that one is expected.
    if (message.type() === 'error' && !message.text().includes('status of 401'))
      problems.push(message.text());
  });
  page.on('response', (response) => {
    if (!response.url().includes('/api/') || response.url().includes('/api/events/stream')) return;
    seen.push(response.text().catch(() => ''));
  });
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${url}/ui/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who').waitFor({ state: 'visible', ...WAIT });
}

async function webRevision(): Promise<string> {
  const [stack] = await plane.daemon.engine.stacks();
  return stack?.resources.find((r) => r.name === 'web')?.revision ?? '';
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the dashboard test needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`,
    );
  }
  home = mkdtempSync(join(tmpdir(), 'drover-ui-home-'));
  dir = copyWebapp();
  file = join(dir, 'shop.yaml');
  writeFileSync(file, STACK);
  const capture = new PassThrough();
  capture.on('data', (chunk: Buffer) => logged.push(chunk.toString('utf8')));
  const loopback = { host: '127.0.0.1', port: 0 };
  plane = await startControlPlane({
    home,
    proxy: loopback,
    api: loopback,
    log: createDaemonLog({ level: 'debug', to: capture }).logger,
    onWarning: (m) => logged.push(m),
    onError: (m) => logged.push(m),
  });
  url = plane.api.address.url;
  const store = new TokenStore(plane.daemon.store);
  tokens.deployer = (await store.create('deployer', 'dana', 'test')).token;
  tokens.viewer = (await store.create('viewer', 'vic', 'test')).token;
  const applied = await plane.daemon.engine.apply({
    file,
    stack: 'shop',
    parameters: [{ name: 'version', value: '1', fromText: true, source: '-p' }],
    who: 'test',
  });
  expect(applied.status, applied.error).toBe('converged');
  revisions.v1 = await webRevision();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 90_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  // A failure in a browser is hard to read: the daemon's side of the story goes with it.
  if (failed && plane !== undefined) {
    const lines: string[] = [];
    for await (const e of plane.daemon.engine.events({}))
      lines.push(`${e.at} ${e.type} ${e.resource ?? ''} ${e.phase ?? ''} ${e.message}`);
    console.error(`events of the failed dashboard test:\n${lines.join('\n')}`);
    console.error(`the pages' errors:\n${problems.join('\n')}`);
  }
  await browser?.close();
  if (plane !== undefined) {
    if ((await plane.daemon.engine.stacks()).length > 0)
      await plane.daemon.engine.destroy('shop', 'test');
    await plane.close();
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe('the dashboard, in Chromium', () => {
  let page: Page;

  it('signs in with a deployer token and shows the stack: graph, service, instances, drift', async () => {
    page = await openPage();
    await page.goto(`${url}/ui/`);
    await page.getByLabel('API token').fill('drv_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('not accepted').waitFor(WAIT);

    await signIn(page, tokens.deployer);
    expect(await page.locator('#who').innerText()).toContain('dana');
    expect(await page.evaluate<string[]>('Object.keys(sessionStorage)')).toEqual(['drover.token']);
    expect(await page.evaluate<string[]>('Object.keys(localStorage)')).toEqual([]);
    expect(await page.context().cookies()).toEqual([]);
    await page.locator('#overview-body').getByRole('link', { name: 'shop' }).click();

    const graph = page.locator('svg.graph');
    await graph.locator('[data-node="web"][data-health="healthy"]').waitFor(WAIT);
    const nodes = await graph
      .locator('g.node')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-node')));
    expect(nodes.sort()).toEqual(['app', 'route', 'signing_key', 'web']);
    const edges = await graph
      .locator('path.edge')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-from')}→${e.getAttribute('data-to')}`),
      );
    expect(edges.sort()).toEqual(['app→web', 'signing_key→web', 'web→route']);

    const services = page.locator('#services-body');
    await services.getByText(short(revisions.v1)).waitFor(WAIT);
    const row = services.locator('tbody tr').first();
    expect(await row.locator('td').allInnerTexts()).toEqual([
      'web',
      short(revisions.v1),
      '2',
      '2',
      '2',
      'healthy',
    ]);
    const instances = page.locator('#instances-body tbody tr');
    expect(await instances.count()).toBe(2);
    for (const text of await instances.allInnerTexts()) expect(text).toMatch(/running\s+healthy/);

    // A hand edit inside an instance: the next scan shows it with its diff line.
    const [instance] = await plane.daemon.engine.instances({ stack: 'shop' });
    const copy = join(instance?.dir ?? '/nonexistent', 'server.js');
    chmodSync(copy, 0o644);
    appendFileSync(copy, '// edited by hand\n');
    await page.getByRole('button', { name: 'Scan now' }).click();
    await page.locator('#drift-body .diff').getByText('file server.js changed').waitFor(WAIT);
    expect(await page.locator('button[data-rollback]').count()).toBe(0); // one revision so far
    pages.push(await page.content());
  }, 90_000);

  it('follows a canary deployment live: the weights move without a reload', async () => {
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const applying = fetch(`${url}/api/stacks/apply`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.deployer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        file,
        stack: 'shop',
        parameters: [
          { name: 'version', value: '2' },
          { name: 'deploy', value: JSON.stringify(CANARY_DEPLOY) },
        ],
      }),
    }).then((r) => r.text());

    const deployments = page.locator('#deployments-body');
    await deployments.locator('.weight.new[data-weight="20"]').waitFor(WAIT);
    // One redraw holds both shares: the new revision's and the old one's make 100%.
    const split = await deployments
      .locator('.weight')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-weight'))));
    expect(split.reduce((a, b) => a + b, 0)).toBe(100);
    await page.locator('[data-node="web"][data-health="deploying"]').waitFor(WAIT);
    await deployments.locator('.weight.new[data-weight="60"]').waitFor(WAIT);
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    pages.push(await page.content());

    const answer = await applying;
    seen.push(Promise.resolve(answer));
    expect(answer.trim().split('\n').at(-1)).toContain('"status":"converged"');
    revisions.v2 = await webRevision();
    expect(revisions.v2).not.toBe(revisions.v1);
    await deployments.getByText('No deployment in progress.').waitFor(WAIT);
    await page.locator('#services-body').getByText(short(revisions.v2)).waitFor(WAIT);
    await page.locator('[data-node="web"][data-health="healthy"]').waitFor(WAIT);
    expect(navigations).toEqual([]);
  }, 90_000);

  it('rolls back to the previous revision from the history', async () => {
    const history = page.locator('#history-body');
    await history.locator('tbody tr').nth(1).waitFor(WAIT);
    await page.getByRole('button', { name: 'Roll back to stack revision 1' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.innerText()).toContain('Roll back shop to stack revision 1?');
    await dialog.getByRole('button', { name: 'Roll back' }).click();

    await page
      .locator('#notice')
      .getByText('Rolled back to stack revision 1 (converged).')
      .waitFor(WAIT);
    await page.locator('#services-body').getByText(short(revisions.v1)).waitFor(WAIT);
    // Two instances of the old revision serve (the newer ones drain and stop in their own time).
    const servingV1 = async (): Promise<number> => {
      const rows = await page
        .locator('#instances-body tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
        );
      return rows.filter((cells) => cells[2] === short(revisions.v1) && cells[6] === 'yes').length;
    };
    await expect.poll(servingV1, WAIT).toBe(2);
    await history.getByText('rollback').waitFor(WAIT);
    expect((await get(proxyPort())).body).toBe('version 1\n');
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-rollback.png'), fullPage: true });
    pages.push(await page.content());
  }, 90_000);

  it('offers no rollback to a viewer', async () => {
    const viewer = await openPage();
    await signIn(viewer, tokens.viewer);
    expect(await viewer.locator('#who').innerText()).toContain('viewer');
    await viewer.goto(`${url}/ui/#/stacks/shop`);
    await viewer.locator('#history-body tbody tr').nth(2).waitFor(WAIT);
    await viewer.locator('svg.graph [data-node="web"]').waitFor(WAIT);
    expect(await viewer.getByRole('button', { name: /Roll back/ }).count()).toBe(0);
    expect(await viewer.locator('button[data-rollback]').count()).toBe(0);
    expect(await page.locator('button[data-rollback]').count()).toBeGreaterThan(0);
    pages.push(await viewer.content());
    await viewer.context().close();
  }, 90_000);

  it('never shows, sends, logs or stores the secret canaries', async () => {
    // They are real: the instance reads the secret from its file.
    expect((await get(proxyPort(), '/file/secrets%2Fkey')).body).toBe(SECRET);

    await page.goto(`${url}/ui/`);
    await page.locator('#overview-body .card').waitFor(WAIT);
    pages.push(await page.content());
    const events = await fetch(`${url}/api/events`, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    }).then((r) => r.text());
    expect(events).toContain('rolling shop back to stack revision 1');
    const answers = await Promise.all(seen);
    expect(answers.length).toBeGreaterThan(20);
    const db = join(home, 'state.db');
    const stored = [db, `${db}-wal`].filter(existsSync).map((f) => readFileSync(f));
    expect(stored.length).toBeGreaterThan(0);
    expect(logged.length).toBeGreaterThan(0);

    expect(problems).toEqual([]);
    for (const canary of [HIDDEN, SECRET]) {
      for (const html of pages) expect(html.includes(canary), 'page HTML').toBe(false);
      for (const text of answers) expect(text.includes(canary), 'API answer').toBe(false);
      expect(events.includes(canary), 'event log').toBe(false);
      for (const bytes of stored)
        expect(bytes.includes(Buffer.from(canary)), 'state.db').toBe(false);
      expect(logged.join('').includes(canary), 'daemon log').toBe(false);
    }
  }, 90_000);
});

function proxyPort(): number {
  return Number(new URL(plane.daemon.proxyUrl).port);
}
