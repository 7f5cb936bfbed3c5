import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestDaemon } from '../api/testing/index.js';
import { startTestDaemon } from '../api/testing/index.js';

import { isTemplatePath } from './commands/graph.js';
import { runCli } from './testing.js';

let daemon: TestDaemon;
let home: string;
beforeAll(async () => {
  daemon = await startTestDaemon();
  home = mkdtempSync(join(tmpdir(), 'drover-graph-'));
});
afterAll(async () => {
  await daemon.close();
  rmSync(home, { recursive: true, force: true });
});

describe('drover graph FILE', () => {
  it('prints the template as Mermaid, compiled locally (no daemon, nothing written)', async () => {
    const run = await runCli(['graph', 'examples/hello'], { DROVER_HOME: home });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'graph TD',
        '  app["app<br/>Drover::Artifact"]',
        '  web["web<br/>Drover::Service"]',
        '  web_route["web_route<br/>Drover::Route"]',
        '  app --> web',
        '  web --> web_route',
        '',
      ].join('\n'),
    );
  });

  it('prints DOT, with parameters as for drover plan', async () => {
    const run = await runCli(
      ['graph', 'examples/hello/stack.yaml', '--format', 'dot', '-p', 'replicas=3'],
      { DROVER_HOME: home },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^digraph "hello" \{\n/);
    expect(run.stdout).toContain('  "app" -> "web";\n  "web" -> "web_route";\n}\n');
  });

  it('reports template problems as drover plan does', async () => {
    const run = await runCli(['graph', 'examples/hello', '-p', 'replicas=99'], {
      DROVER_HOME: home,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error');
  });
});

describe('drover graph STACK', () => {
  it("asks the daemon, and colours services by their instances' health", async () => {
    const run = await runCli(['graph', 'hello'], {
      DROVER_HOME: daemon.home,
      DROVER_API: daemon.url,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  app --> web\n  web --> route\n');
    expect(run.stdout).toContain('  class web unhealthy\n');
    expect(daemon.engine.calls.map((c) => c.method)).toContain('graph');
  });

  it('says so for a stack the daemon does not know', async () => {
    const run = await runCli(['graph', 'nope', '--format', 'dot'], {
      DROVER_HOME: daemon.home,
      DROVER_API: daemon.url,
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('nope');
  });
});

describe('isTemplatePath', () => {
  it.each([
    ['examples/hello', true],
    ['stack.yaml', true],
    ['./web', true],
    ['web', false],
    ['my-stack', false],
  ])('%s → %s', (target, expected) => {
    expect(isTemplatePath(target)).toBe(expected);
  });
});
