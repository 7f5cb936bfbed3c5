import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, httpGet } from '../contract.case.js';
import type { InstanceArtifact, InstanceSpec } from '../runtime.js';
import { writeNodeWorkloads } from '../testing/node-workloads.js';
import type { TestHome } from '../testing/process-home.js';
import { testHome } from '../testing/process-home.js';

import { pidsWithMarker } from './proc.js';
import type { ProcessRuntime } from './runtime.js';

let testing: TestHome;
let home: string;
let workloads: string;
let runtime: ProcessRuntime;
let artifact: InstanceArtifact;
let port = 23500;

beforeAll(async () => {
  workloads = writeNodeWorkloads();
  writeFileSync(
    join(workloads, 'family.js'),
    // A parent that ignores SIGTERM, starts a grandchild ignoring SIGTERM, says
    // so on stderr (a test waits for that line), then prints lots.
    `process.on('SIGTERM', () => {});
const { spawn } = require('node:child_process');
spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
console.error('family started');
let n = 0;
const t = setInterval(() => { console.log('line ' + (n++) + ' ' + 'x'.repeat(100)); if (n >= 200) clearInterval(t); }, 1);
setInterval(() => {}, 1000);
`,
  );
  testing = await testHome();
  home = testing.home;
  runtime = await testing.runtime({ logMaxBytes: 4096, logKeep: 2 });
  artifact = await runtime.build({ id: 'w', context: workloads, timeoutMs: 1000, who: 'test' });
});

afterAll(async () => {
  for (const o of await runtime.list()) await runtime.stop(o.handle, { graceMs: 100 });
  await runtime.close();
  await testing.cleanup();
  await rm(workloads, { recursive: true, force: true });
});

const spec = (script: string, extra: Partial<InstanceSpec> = {}): InstanceSpec => {
  const id = `p${process.pid}-${port}`;
  return {
    id,
    labels: { stack: 's', service: 'svc', revision: 'r', instance: id },
    artifact,
    command: [process.execPath, script],
    env: {},
    port: port++,
    ...extra,
  };
};

describe('process runtime', () => {
  it('runs each instance in its own read-only copy of the artifact, and keeps its logs after it', async () => {
    const s = spec('server.js');
    const handle = await runtime.start(s);
    expect(handle.dir).toBe(join(home, 'instances', s.id, 'root'));
    expect(statSync(join(handle.dir ?? '', 'server.js')).mode & 0o222).toBe(0);
    await runtime.stop(handle, { graceMs: 2000 });
    expect(existsSync(join(home, 'instances', s.id))).toBe(false);
    // Logs outlive the instance.
    expect(existsSync(join(home, 'logs', s.id, 'stdout.log'))).toBe(true);
  });

  it('stops the whole family: SIGTERM to all, SIGKILL after the grace period, nothing left', async () => {
    const s = spec('family.js');
    const handle = await runtime.start(s);
    // Not the marked processes alone: with namespaces, the unshare wrapper and the
    // parent carry the marker before the parent's code has even run.
    await eventually(async () => {
      for await (const line of runtime.logs(handle))
        if (line.stream === 'stderr' && line.line.trim() === 'family started') return true;
      return undefined;
    }, 'the parent ignoring SIGTERM, with its grandchild started');
    const status = await runtime.stop(handle, { graceMs: 300 });
    expect(status.signal === 'SIGKILL' || status.exitCode === 137, JSON.stringify(status)).toBe(
      true,
    );
    expect((await pidsWithMarker('DROVER_INSTANCE', s.id)).size).toBe(0);
  });

  it('rotates logs by size and keeps the rotated lines readable', async () => {
    const s = spec('family.js');
    const handle = await runtime.start(s);
    await eventually(async () => {
      let count = 0;
      for await (const line of runtime.logs(handle)) if (line.line.startsWith('line')) count++;
      return count >= 200 || undefined;
    }, 'all lines written');
    await runtime.rotateLogs();
    expect(statSync(join(home, 'logs', s.id, 'stdout.log')).size).toBe(0);
    expect(existsSync(join(home, 'logs', s.id, 'stdout.log.1'))).toBe(true);
    const tail: string[] = [];
    for await (const line of runtime.logs(handle, { tail: 5 }))
      if (line.stream === 'stdout') tail.push(line.line);
    expect(tail.at(-1)).toMatch(/^line 199 /);
    await runtime.stop(handle, { graceMs: 100 });
  });

  it('never takes a different process with a reused pid for an instance', async () => {
    const s = spec('server.js');
    const handle = await runtime.start(s);
    await eventually(
      async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
      'healthz',
    );
    const record = join(home, 'instances', s.id, 'instance.json');
    const { readFileSync } = await import('node:fs');
    const saved = JSON.parse(readFileSync(record, 'utf8')) as { handle: { startTime: number } };
    // Same pid, another start time: as if the instance died and the pid was handed to a new process.
    saved.handle.startTime += 1;
    writeFileSync(record, JSON.stringify(saved));
    const listed = (await runtime.list()).find((o) => o.handle.id === s.id);
    expect(listed?.state).toBe('exited');
    await runtime.stop(handle, { graceMs: 1000 });
  });

  it('as root: private PID, mount, UTS and IPC namespaces', async (ctx) => {
    if (!runtime.isolation.namespaces) {
      if (process.env['CI'] === 'true') throw new Error('CI runs as root and must test namespaces');
      ctx.skip();
    }
    const s = spec('server.js');
    const handle = await runtime.start(s);
    await eventually(
      async () => (await httpGet(s.port, '/healthz')).status === 200 || undefined,
      'healthz',
    );
    const pids = [...(await pidsWithMarker('DROVER_INSTANCE', s.id)).keys()];
    for (const ns of ['pid', 'mnt', 'uts', 'ipc']) {
      const inside = pids.map((p) => readlinkSync(`/proc/${p}/ns/${ns}`));
      expect(inside.some((n) => n !== readlinkSync(`/proc/self/ns/${ns}`))).toBe(true);
    }
    const seen = await runtime.exec(handle, ['sh', '-c', 'echo $$'], { timeoutMs: 5000 });
    expect(Number(seen.output.trim())).toBeLessThan(100);
    await runtime.stop(handle, { graceMs: 2000 });
  });

  it('without root: plain processes, and a clear warning that limits are not enforced', async () => {
    if (process.getuid?.() !== 0) return;
    // Run a stand-in daemon as an unprivileged user and read what it warns.
    const dir = mkdtempSync(join(tmpdir(), 'drover-nobody-'));
    chmodSync(dir, 0o777);
    cpSync(workloads, join(dir, 'w'), { recursive: true });
    spawnSync('chown', ['-R', '65534:65534', dir]);
    const script = join(dir, 'probe.mjs');
    writeFileSync(
      script,
      `import { createProcessRuntime } from ${JSON.stringify(new URL('./runtime.ts', import.meta.url).pathname)};
const warnings = [];
const runtime = await createProcessRuntime({ home: ${JSON.stringify(join(dir, 'home'))}, snapshots: {}, onWarning: (m) => warnings.push(m) });
console.log(JSON.stringify({ warnings, namespaces: runtime.isolation.namespaces, cgroups: runtime.isolation.cgroups !== undefined }));
await runtime.close();
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      uid: 65534,
      gid: 65534,
      cwd: process.cwd(),
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    const result = JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}') as {
      warnings: string[];
      namespaces: boolean;
      cgroups: boolean;
    };
    expect(result).toMatchObject({ namespaces: false, cgroups: false });
    expect(result.warnings.join(' ')).toContain('memory/CPU limits are not enforced');
    await rm(dir, { recursive: true, force: true });
  });
});
