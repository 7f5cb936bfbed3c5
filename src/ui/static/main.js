// The dashboard: sign in with a token (kept in sessionStorage, so it ends
// with the tab), follow the event stream, and redraw what an event touches.
// No framework: every part of the page is drawn from API answers.

import { Api, ApiError } from './api.js';
import { byId, h } from './dom.js';
import { follow } from './live.js';
import { schedule } from './refresh.js';
import { describe, session } from './state.js';

const TOKEN_KEY = 'drover.token';

/**
 * A titled part of the page; its body is drawn by refresh.js.
 * @param {string} id
 * @param {string} title
 * @param {Node[]} [actions]
 */
function panel(id, title, actions = []) {
  return h(
    'section',
    { class: 'panel', id, 'aria-labelledby': `${id}-title` },
    h('header', {}, h('h2', { id: `${id}-title` }, title), ...actions),
    h('div', {
      class: 'panel-body',
      id: `${id}-body`,
      'aria-live': id === 'deployments' ? 'polite' : undefined,
    }),
  );
}

/** The view for the address: `#/` the stacks, `#/stacks/NAME` one stack. */
function route() {
  const match = /^#\/stacks\/([^/]+)$/.exec(location.hash);
  session.stack = match ? decodeURIComponent(match[1] ?? '') : undefined;
  session.drawn.clear();
  const view = byId('view');
  if (session.stack === undefined) {
    document.title = 'Drover';
    view.replaceChildren(
      h('div', { class: 'page-head' }, h('h1', {}, 'Overview')),
      panel('overview', 'Stacks'),
      panel('events', 'Events'),
    );
    schedule(0);
    return;
  }
  document.title = `${session.stack} · Drover`;
  const scan = h(
    'button',
    { type: 'button', class: 'secondary small', on: { click: () => schedule(0, true) } },
    'Scan now',
  );
  view.replaceChildren(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, session.stack),
      h('p', { id: 'stack-meta', class: 'muted' }),
      h('p', { id: 'notice', class: 'notice', role: 'status' }),
    ),
    panel('deployments', 'Deployments in progress'),
    h('div', { class: 'grid' }, panel('graph', 'Graph'), panel('events', 'Events')),
    panel('services', 'Services'),
    panel('instances', 'Instances'),
    h('div', { class: 'grid' }, panel('history', 'History'), panel('drift', 'Drift', [scan])),
  );
  schedule(0, true);
}

/** @param {string} token */
async function signIn(token) {
  const api = new Api(token);
  /** @type {import('./state.js').Me} */
  const me = await api.get('/api/whoami');
  sessionStorage.setItem(TOKEN_KEY, token);
  Object.assign(session, { api, me, events: [], lastSeq: 0, endpoints: true });
  session.steps.clear();
  byId('who-name').textContent = me.name;
  byId('who-role').textContent = me.role;
  byId('sign-in').hidden = true;
  byId('who').hidden = false;
  byId('app').hidden = false;
  session.stream = new AbortController();
  void follow(api, session.stream.signal);
  route();
}

/** Forgets the token and everything shown with it. @param {string} [why] */
function signOut(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.stream?.abort();
  Object.assign(session, { api: undefined, me: undefined, events: [] });
  session.drawn.clear();
  byId('view').replaceChildren();
  byId('nav-body').replaceChildren();
  byId('app').hidden = true;
  byId('who').hidden = true;
  byId('sign-in').hidden = false;
  byId('live').textContent = '';
  byId('sign-in-error').textContent = why ?? '';
  byId('token').focus();
}

function start() {
  session.signOut = signOut;
  const form = /** @type {HTMLFormElement} */ (byId('sign-in-form'));
  const input = /** @type {HTMLInputElement} */ (byId('token'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    byId('sign-in-error').textContent = '';
    signIn(input.value.trim()).then(
      () => {
        input.value = '';
      },
      (error) => {
        byId('sign-in-error').textContent =
          error instanceof ApiError && error.status === 401
            ? 'That token was not accepted (mistyped, or revoked).'
            : `Could not sign in: ${describe(error)}`;
      },
    );
  });
  byId('sign-out').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', () => {
    if (session.api !== undefined) route();
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved === null) signOut();
  else signIn(saved).catch(() => signOut('Please sign in again.'));
}

start();
