/**
 * Closes renderers in awkward states, then lets the process end on its own
 * (run with `node --import tsx lifecycle.ts <dir>`): one is killed mid-reload
 * (a reload that would sleep 20 s), one has a retry pending for a minute.
 * Prints "closed"; anything left running would keep the process alive.
 */
import { join } from 'node:path';

import { ConfigTemplateRenderer } from '../renderer.js';

import { EventLog, openTestRegistry } from './harness.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: lifecycle.ts <dir>');
const t = await openTestRegistry();

const base = { registry: t.registry, stack: 's', name: 'n', template: 'x', debounceMs: 10 };
const slow = new ConfigTemplateRenderer({
  ...base,
  destination: join(dir, 'slow.conf'),
  reload: [process.execPath, '-e', 'setTimeout(() => {}, 20_000)'],
});
const failing = new ConfigTemplateRenderer({
  ...base,
  destination: join(dir, 'failing.conf'),
  reload: [process.execPath, '-e', 'process.exit(1)'],
  retry: { initialMs: 60_000, maxMs: 60_000 },
});
const slowLog = new EventLog(slow.events());
const failingLog = new EventLog(failing.events());
slow.start();
failing.start();
await slowLog.waitFor((e) => e.type === 'rendered');
await failingLog.waitFor((e) => e.type === 'failed');
await Promise.all([slow.close(), failing.close()]);
await t.cleanup();
process.stdout.write('closed\n');
