// What a deployer can do from the page: roll a stack back, after asking.

import { byId } from './dom.js';
import { describe, notice, session } from './state.js';

/**
 * @typedef {import('../../engine/types.js').StackRevisionInfo} StackRevisionInfo
 */

/**
 * Asks in a modal dialog; resolves to whether the user confirmed.
 * @param {string} title
 * @param {string} text
 * @returns {Promise<boolean>}
 */
function confirmDialog(title, text) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('confirm'));
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

/**
 * Rolls the stack back to an earlier stack revision, telling its progress in the notice line.
 * @param {string} stack
 * @param {StackRevisionInfo} revision
 */
export async function rollback(stack, revision) {
  const api = session.api;
  if (api === undefined) return;
  const resources = Object.entries(revision.resources)
    .map(([name, id]) => `${name} ${id.slice(0, 7)}`)
    .join(', ');
  const confirmed = await confirmDialog(
    `Roll back ${stack} to stack revision ${revision.number}?`,
    `Its resources go back to the revisions recorded then (${resources}). New instances ` +
      "replace the current ones, following each service's deploy strategy.",
  );
  if (!confirmed) return;
  notice(`Rolling ${stack} back to stack revision ${revision.number}…`);
  try {
    const result = await api.operation(
      'POST',
      `/api/stacks/${encodeURIComponent(stack)}/rollback`,
      { to: revision.number },
      (e) => notice(e.message),
    );
    notice(
      result.status === 'failed'
        ? `Rollback failed: ${result.error ?? 'see the events'}`
        : `Rolled back to stack revision ${revision.number} (${result.status}).`,
    );
  } catch (error) {
    notice(`Rollback failed: ${describe(error)}`);
  }
}
