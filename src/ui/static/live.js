// The event stream: followed from where the page is, reconnecting with
// backoff; each event asks for a refresh of what it may have changed.

import { ApiError } from './api.js';
import { byId } from './dom.js';
import { schedule } from './refresh.js';
import { session } from './state.js';

/**
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('../../engine/types.js').EngineEvent} EngineEvent
 */

/** Events kept (and shown) in the page. */
const MAX_EVENTS = 200;
/** Events after which a fresh drift scan is worth its cost (every scan reads the instances). */
const DRIFT_EVENTS = new Set([
  'drift.detected',
  'apply.converged',
  'rollback',
  'instance.replaced',
  'instance.healed',
  'destroy',
]);

/** @param {EngineEvent} e */
function onEvent(e) {
  session.lastSeq = Math.max(session.lastSeq, e.seq);
  session.events = [e, ...session.events].slice(0, MAX_EVENTS);
  const key = `${e.stack ?? ''}/${e.resource ?? ''}`;
  if (e.type === 'deploy.started') session.steps.delete(key);
  const weight = e.data?.['weight'];
  if (e.type === 'progress' && e.phase === 'step' && typeof weight === 'number') {
    session.steps.set(key, weight);
    // The registry takes the new weights just after the event: look again then.
    setTimeout(() => schedule(0), 600);
  }
  // A drift scan reads every instance: only for what changes the stack on screen.
  schedule(150, DRIFT_EVENTS.has(e.type) && e.stack === session.stack);
}

/** @param {'live' | 'connecting' | 'reconnecting'} state */
function indicate(state) {
  const el = byId('live');
  el.className = `live is-${state}`;
  el.textContent =
    state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
}

/**
 * Follows the event log until the signal aborts (sign out) or the token is refused.
 * @param {Api} api
 * @param {AbortSignal} signal
 */
export async function follow(api, signal) {
  let delay = 1000;
  while (!signal.aborted) {
    indicate(delay === 1000 ? 'connecting' : 'reconnecting');
    try {
      for await (const e of api.events(session.lastSeq, signal, () => indicate('live'))) {
        delay = 1000;
        onEvent(e);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) {
        session.signOut('Your token is no longer valid.');
        return;
      }
      // Anything else (the daemon restarting, a network hiccup): reconnect below.
    }
    if (signal.aborted) return;
    indicate('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}
