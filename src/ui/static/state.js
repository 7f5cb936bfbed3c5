// What the page knows while signed in, shared by its modules.

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('../../engine/types.js').EngineEvent} EngineEvent
 * @typedef {{ name: string, role: 'viewer' | 'deployer' | 'admin' }} Me
 */

export const session = {
  /** @type {Api | undefined} */ api: undefined,
  /** @type {Me | undefined} */ me: undefined,
  /** @type {AbortController | undefined} */ stream: undefined,
  /** Newest first, capped. */
  /** @type {EngineEvent[]} */ events: [],
  lastSeq: 0,
  /** Canary weights from `step` events, by `stack/service`: the fallback without /api/endpoints. */
  /** @type {Map<string, number>} */ steps: new Map(),
  /** Whether the daemon has `GET /api/endpoints` (older ones do not). */
  endpoints: true,
  /** @type {string | undefined} the stack shown, or undefined for the overview */ stack: undefined,
  /** What each part was last drawn from, so unchanged parts are left alone. */
  /** @type {Map<string, string>} */ drawn: new Map(),
  /** Set by main.js: ends the session (a 401 anywhere means the token is gone). */
  /** @type {(why?: string) => void} */ signOut: () => undefined,
};

/** Whether the token may deploy and roll back (the API checks again). */
export const canDeploy = () => session.me?.role === 'deployer' || session.me?.role === 'admin';

/**
 * A line under the stack's title: what an action is doing, or why it failed.
 * @param {string} text
 */
export function notice(text) {
  const el = document.getElementById('notice');
  if (el !== null) el.textContent = text;
}

/** @param {unknown} error */
export const describe = (error) => (error instanceof Error ? error.message : String(error));
