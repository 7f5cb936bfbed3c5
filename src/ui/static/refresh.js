// Redrawing the page from the API: at most one refresh runs at a time, soon
// after whatever asked for it (an event, a click, opening a stack); requests
// that come meanwhile are folded into one more.

import { rollback } from './actions.js';
import { ApiError } from './api.js';
import { byId, h } from './dom.js';
import { graphSvg } from './graph.js';
import { canDeploy, describe, notice, session } from './state.js';
import * as views from './views.js';

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('../../engine/types.js').StackStatus} StackStatus
 * @typedef {import('../../engine/types.js').InstanceInfo} InstanceInfo
 * @typedef {import('../../engine/types.js').StackRevisionInfo} StackRevisionInfo
 * @typedef {import('../../graph/index.js').StackGraph} StackGraph
 * @typedef {import('../../reconcile/index.js').DriftReport} DriftReport
 * @typedef {import('../../registry/index.js').Endpoint} Endpoint
 */

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let running = false;
let again = false;
let wantDrift = false;

/**
 * Asks for a refresh within `delay` ms; `drift` also asks for a fresh drift scan.
 * @param {number} [delay]
 * @param {boolean} [drift]
 */
export function schedule(delay = 150, drift = false) {
  wantDrift ||= drift;
  if (timer !== undefined) return;
  timer = setTimeout(() => {
    timer = undefined;
    void run();
  }, delay);
}

async function run() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  const drift = wantDrift;
  wantDrift = false;
  try {
    await refresh(drift);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401)
      session.signOut('Your token is no longer valid.');
    else notice(`Could not refresh: ${describe(error)}`);
  } finally {
    running = false;
    if (again) {
      again = false;
      schedule(0);
    }
  }
}

/**
 * Draws a part of the page when what it shows changed.
 * @template T
 * @param {string} id
 * @param {T} data
 * @param {(data: T) => Node} render
 */
function draw(id, data, render) {
  const el = document.getElementById(`${id}-body`);
  if (el === null) return;
  const key = JSON.stringify(data);
  if (session.drawn.get(id) === key) return;
  session.drawn.set(id, key);
  el.replaceChildren(render(data));
}

/** @param {boolean} drift */
async function refresh(drift) {
  const api = session.api;
  if (api === undefined) return;
  /** @type {StackStatus[]} */
  const stacks = await api.get('/api/stacks');
  draw('nav', { stacks, current: session.stack }, navLinks);
  const name = session.stack;
  if (name === undefined) {
    draw('overview', stacks, views.stackCards);
    draw('events', session.events, views.events);
    return;
  }
  const stack = stacks.find((s) => s.stack === name);
  if (stack === undefined) {
    // Destroyed, or not applied yet: the parts stay, empty, and fill again if it comes (back).
    byId('stack-meta').textContent = `No stack named ${name} is applied.`;
    for (const body of document.querySelectorAll('.panel-body')) body.replaceChildren();
    session.drawn.clear();
    wantDrift = true;
    return;
  }
  const q = encodeURIComponent(name);
  const [instances, graph, history, endpoints, report] = await Promise.all([
    /** @type {Promise<InstanceInfo[]>} */ (api.get(`/api/instances?stack=${q}`)),
    /** @type {Promise<StackGraph>} */ (api.get(`/api/stacks/${q}/graph`)),
    /** @type {Promise<StackRevisionInfo[]>} */ (api.get(`/api/stacks/${q}/history`)),
    fetchEndpoints(api, q),
    drift
      ? /** @type {Promise<DriftReport>} */ (api.get(`/api/drift?stack=${q}`))
      : Promise.resolve(undefined),
  ]);
  // The user went elsewhere, or signed out, meanwhile.
  if (session.stack !== name || session.api !== api) return;
  byId('stack-meta').textContent =
    `stack revision ${stack.stackRevision ?? '–'} · applied ${new Date(stack.appliedAt ?? 0).toLocaleString()}` +
    (stack.file ? ` · ${stack.file}` : '');
  draw('deployments', { stack, endpoints, steps: [...session.steps] }, (d) =>
    views.deployments(d.stack, (service, to, from) => shares(d.endpoints, name, service, to, from)),
  );
  draw('graph', graph, graphSvg);
  draw('services', { stack, graph }, (d) => views.services(d.stack, d.graph));
  draw('instances', instances, views.instances);
  draw('history', { history, deployer: canDeploy() }, (d) =>
    views.history(
      d.history,
      d.deployer ? (r) => void rollback(name, r).then(() => schedule(0, true)) : undefined,
    ),
  );
  if (report !== undefined) draw('drift', report, views.drift);
  draw(
    'events',
    session.events.filter((e) => e.stack === name),
    views.events,
  );
}

/**
 * The registry's endpoints, or undefined when this daemon has no such route.
 * @param {Api} api
 * @param {string} q
 * @returns {Promise<Endpoint[] | undefined>}
 */
async function fetchEndpoints(api, q) {
  if (!session.endpoints) return undefined;
  try {
    return await api.get(`/api/endpoints?stack=${q}`);
  } catch (error) {
    // An older daemon has no such route; a stack gone meanwhile is not that.
    const noRoute =
      error instanceof ApiError && error.status === 404 && error.message.startsWith('no route');
    if (!noRoute) throw error;
    session.endpoints = false;
    return undefined;
  }
}

/**
 * Traffic per revision: the endpoint weights, else the last canary step seen.
 * @param {Endpoint[] | undefined} endpoints
 * @param {string} stack
 * @param {string} service
 * @param {string} to
 * @param {string} from
 */
function shares(endpoints, stack, service, to, from) {
  const measured = endpoints === undefined ? [] : views.endpointShares(endpoints, service);
  if (measured.length > 0) return measured;
  const weight = session.steps.get(`${stack}/${service}`);
  if (weight === undefined) return [];
  return [
    { revision: to, percent: weight },
    { revision: from, percent: 100 - weight },
  ];
}

/**
 * The sidebar's links, the shown stack marked.
 * @param {{ stacks: StackStatus[], current: string | undefined }} d
 */
function navLinks(d) {
  return h(
    'ul',
    {},
    ...d.stacks.map((s) =>
      h(
        'li',
        {},
        h(
          'a',
          {
            href: `#/stacks/${encodeURIComponent(s.stack)}`,
            'aria-current': s.stack === d.current ? 'page' : undefined,
          },
          s.stack,
        ),
      ),
    ),
  );
}
