// bench/plan: wall time and peak RSS of `validate` and `plan` on generated stacks.
// Run after `npm run build`: node bench/plan.mjs [sizes]   (BENCH_RUNS=5 by default)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { generateStack } from './generate.mjs';

const sizes = (process.argv[2] ?? '500,1000,10000').split(',').map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const worker = new URL('./plan-worker.mjs', import.meta.url).pathname;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(mode, file, home) {
  const t = performance.now();
  const out = JSON.parse(
    execFileSync(process.execPath, [worker, mode, file, home], { encoding: 'utf8' }),
  );
  return { ...out, processMs: performance.now() - t };
}

function refusal(text) {
  const dir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  const file = join(dir, 'stack.yaml');
  writeFileSync(file, text);
  const t = performance.now();
  try {
    execFileSync(process.execPath, [worker, 'validate', file, join(dir, 'home')], {
      stdio: 'ignore',
    });
  } catch {
    // Refused, as it should be.
  }
  rmSync(dir, { recursive: true, force: true });
  return performance.now() - t;
}

console.log(`bench/plan: ${runs} fresh processes per figure, medians; RSS is the largest seen`);
console.log(
  '("validate": reading and checking the file; "validate+plan": one `plan` run, which reads, checks,',
);
console.log(
  'resolves and diffs against an empty state; both in-process, from reading the file; "process" adds',
);
console.log(
  'Node start-up and imports; "warm re-plan" compares against the state recorded from a first plan)',
);
console.log('');
console.log(
  'resources  file KB  validate ms  validate+plan ms  process ms  warm re-plan ms  peak RSS MB',
);
for (const size of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  const file = generateStack(dir, size);
  const home = join(dir, 'home');
  const validate = [];
  const planned = [];
  const replanned = [];
  for (let i = 0; i < runs; i++) {
    validate.push(measure('validate', file, home));
    planned.push(measure('plan', file, home));
    replanned.push(measure('replan', file, home));
  }
  const v = median(validate.map((r) => r.ms));
  const p = median(planned.map((r) => r.ms));
  const row = [
    String(size).padStart(9),
    String(Math.round(statSync(file).size / 1024)).padStart(7),
    v.toFixed(0).padStart(11),
    p.toFixed(0).padStart(16),
    median(planned.map((r) => r.processMs))
      .toFixed(0)
      .padStart(10),
    median(replanned.map((r) => r.ms))
      .toFixed(0)
      .padStart(15),
    Math.max(...validate.concat(planned).map((r) => r.peakRssMb))
      .toFixed(0)
      .padStart(11),
  ];
  console.log(row.join('  '));
  rmSync(dir, { recursive: true, force: true });
}

const bomb = [
  'drover_template_version: 2026-11-21',
  'conditions:',
  '  a: &a [true,true,true,true,true,true,true,true,true]',
];
for (const [name, prev] of [
  ['b', 'a'],
  ['c', 'b'],
  ['d', 'c'],
  ['e', 'd'],
  ['f', 'e'],
  ['g', 'f'],
  ['h', 'g'],
  ['i', 'h'],
]) {
  bomb.push(`  ${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
}
console.log('');
console.log(
  `alias bomb (9^9 values) refused in ${refusal(bomb.join('\n')).toFixed(0)} ms (whole process)`,
);
console.log(
  `9 MB file refused in ${refusal(`description: "${'x'.repeat(9 * 1024 * 1024)}"\n`).toFixed(0)} ms (whole process)`,
);
console.log(
  'targets: 10,000 resources validate+plan <= 1000 ms, peak RSS < 300 MB; refusals < 1000 ms',
);
