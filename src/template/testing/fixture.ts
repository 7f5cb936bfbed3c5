import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import type { ParameterInput, ResolveResult } from '../index.js';
import { compileStack } from '../index.js';

const made: string[] = [];

/** Writes files into a fresh temporary directory; directories end with '/'. */
export function writeFixture(files: Readonly<Record<string, string | Buffer>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-template-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    if (name.endsWith('/')) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

export function removeFixtures(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const TEST_KEY = new Uint8Array(32).fill(7);

export interface CheckOptions {
  readonly mode?: 'validate' | 'plan';
  readonly params?: Readonly<Record<string, string>>;
  readonly file?: string;
  readonly stack?: string;
}

/** Loads and resolves `file` (default stack.yaml) of a fixture. */
export async function check(
  files: Readonly<Record<string, string | Buffer>>,
  options: CheckOptions = {},
): Promise<ResolveResult & { dir: string }> {
  const dir = writeFixture(files);
  const parameters: ParameterInput[] = Object.entries(options.params ?? {}).map(
    ([name, value]) => ({
      name,
      value,
      fromText: true,
      source: `-p ${name}`,
    }),
  );
  const result = await compileStack(join(dir, options.file ?? 'stack.yaml'), {
    stack: options.stack ?? 'test',
    mode: options.mode ?? 'validate',
    parameters,
    hiddenKey: TEST_KEY,
    home: '/var/lib/drover-test',
  });
  return { ...result, dir };
}

/** The 1-based line of the first line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(marker));
  if (index < 0) throw new Error(`marker ${marker} not in the fixture`);
  return index + 1;
}

/** A minimal valid header. */
export const HEADER = 'drover_template_version: 2026-11-21\n';
