import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Ajv2020 } from 'ajv/dist/2020.js';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

/** The installed command, as users run it (built by `npm ci` / `npm run build`). */
function drover(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const home = mkdtempSync(join(tmpdir(), 'drover-e2e-'));
  const run = spawnSync(process.execPath, ['bin/drover.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', DROVER_HOME: home, ...env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const examples = [
  { dir: 'examples/hello', params: [] },
  { dir: 'examples/shop', params: ['-p', 'db_password=correct-horse'] },
  { dir: 'examples/reference', params: ['-p', 'api_key=k3y'] },
];

describe('drover on the examples', () => {
  it.each(examples)('validates and plans $dir', ({ dir, params }) => {
    const validate = drover(['validate', dir]);
    expect(validate.stderr).toBe('');
    expect(validate.status).toBe(0);
    const plan = drover(['plan', dir, ...params, '--json']);
    expect(plan.stderr).toBe('');
    expect(plan.status).toBe(0);
    const parsed = JSON.parse(plan.stdout) as { actions: { action: string }[] };
    expect(parsed.actions.length).toBeGreaterThan(0);
    expect(parsed.actions.every((a) => a.action === 'create')).toBe(true);
    for (const value of params) expect(plan.stdout).not.toContain(value.split('=')[1] ?? '\u0000');
  });

  it('the reference example uses every section of the language', () => {
    const doc = load(readFileSync('examples/reference/stack.yaml', 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(doc).sort()).toEqual(
      [
        'conditions',
        'description',
        'drover_template_version',
        'mappings',
        'outputs',
        'parameters',
        'resources',
      ].sort(),
    );
  });
});

describe('the JSON Schema for editors', () => {
  const schema = JSON.parse(readFileSync('schema/drover-template.schema.json', 'utf8')) as object;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);

  it.each([
    'examples/hello/stack.yaml',
    'examples/shop/stack.yaml',
    'examples/shop/db/db.yaml',
    'examples/reference/stack.yaml',
  ])('accepts %s', (file) => {
    const ok = validate(load(readFileSync(file, 'utf8')));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('flags an unknown property and a wrong type', () => {
    const doc = load(
      'drover_template_version: 2026-11-21\nresources:\n  web:\n    type: Drover::Route\n    properties:\n      hots: a.localhost\n      service: { get_resource: x }\n  v:\n    type: Drover::Service\n    properties: { artifact: { get_resource: b }, replicas: many }\n',
    );
    expect(validate(doc)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toContain('/resources/web/properties');
    expect(paths).toContain('/resources/v/properties/replicas');
  });
});
