import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import { dump as stringify } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';

import type { ParameterInput } from './index.js';
import { compileStack } from './index.js';
import { mutatedTemplate, plausibleTemplate, templateDocument } from './testing/arbitrary.js';
import { removeFixtures, TEST_KEY, writeFixture } from './testing/fixture.js';

afterAll(removeFixtures);

const dir = writeFixture({
  'app/server.js': 'x',
  'child.yaml':
    'drover_template_version: 2026-11-21\nparameters:\n  a: { type: string, default: x }\noutputs:\n  o: { value: { get_param: a } }\n',
});
const file = join(dir, 'stack.yaml');

async function outcome(text: string, params: readonly ParameterInput[] = []): Promise<void> {
  writeFileSync(file, text);
  for (const mode of ['validate', 'plan'] as const) {
    const result = await compileStack(file, {
      stack: 'fuzz',
      mode,
      parameters: params,
      hiddenKey: TEST_KEY,
      home: '/tmp/drover-fuzz',
    });
    // Exactly one of: a resolved stack, or at least one diagnostic.
    expect(result.stack === undefined).toBe(result.diagnostics.length > 0);
    for (const d of result.diagnostics) {
      expect(d.message.length).toBeGreaterThan(0);
      if (d.loc) expect(d.loc.line).toBeGreaterThan(0);
    }
  }
}

describe('any input yields a resolved stack or template errors, never another exception', () => {
  it('template-shaped documents', async () => {
    await fc.assert(
      fc.asyncProperty(templateDocument, async (doc) => outcome(stringify(doc))),
      { numRuns: 400 },
    );
  });

  it('plausible stacks with references, conditions and functions', async () => {
    await fc.assert(
      fc.asyncProperty(plausibleTemplate, async (doc) => outcome(stringify(doc))),
      { numRuns: 300 },
    );
  });

  it('plausible stacks with one value replaced by noise', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedTemplate, async (doc) => outcome(stringify(doc))),
      { numRuns: 400 },
    );
  });

  it('template-shaped documents with parameter values', async () => {
    const param = fc.record({
      name: fc.constantFrom('a', 'b', 'x', 'web'),
      value: fc.string({ maxLength: 6 }),
      fromText: fc.constant(true),
      source: fc.constant('-p'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(templateDocument, plausibleTemplate),
        fc.array(param, { maxLength: 3 }),
        async (doc, params) => outcome(stringify(doc), params),
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => outcome(text)),
      { numRuns: 300 },
    );
  });

  it('arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => outcome(JSON.stringify(value))),
      { numRuns: 200 },
    );
  });
});
