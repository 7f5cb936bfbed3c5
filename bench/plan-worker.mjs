// One measurement in a fresh process, as the CLI runs it: `validate` (check only),
// `plan` (load, check, resolve, diff against an empty state), or `replan` (plan
// again, warm, against the state recorded from a first plan: every resource compared).
import { performance } from 'node:perf_hooks';

import { plan, template } from '../dist/index.js';

const [mode, file, home] = process.argv.slice(2);
const options = { stack: 'bench', home, hiddenKey: new Uint8Array(32).fill(1) };

let start = performance.now();
const result = await template.compileStack(file, {
  ...options,
  mode: mode === 'validate' ? 'validate' : 'plan',
});
if (result.diagnostics.length > 0) {
  console.error(result.diagnostics.slice(0, 5));
  process.exit(1);
}
let actions = 0;
if (mode !== 'validate') actions = plan.planStack(result.stack, undefined).actions.length;
if (mode === 'replan') {
  const recorded = plan.recordStack(result.stack);
  start = performance.now();
  const again = await template.compileStack(file, { ...options, mode: 'plan' });
  const noop = plan.planStack(again.stack, recorded);
  if (noop.summary.noop !== actions) throw new Error('re-plan was not all noop');
}
const ms = performance.now() - start;
process.stdout.write(
  JSON.stringify({ ms, actions, peakRssMb: process.resourceUsage().maxRSS / 1024 }),
);
