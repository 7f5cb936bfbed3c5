import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { EngineEvent } from '../src/engine/types.js';

import type { TestPlane } from './support/engine.js';
import { get, startPlane } from './support/engine.js';

const SECRET = 'canary-5ecret-d0-not-leak';
let plane: TestPlane;
const events: EngineEvent[] = [];

const applyFull = (params: Record<string, string>): ReturnType<TestPlane['apply']> =>
  plane.daemon.engine.apply(
    {
      file: join(plane.dir, 'full.yaml'),
      stack: 'web',
      parameters: Object.entries(params).map(([name, value]) => ({
        name,
        value,
        fromText: true,
        source: '-p',
      })),
      who: 'test',
    },
    (e) => events.push(e),
  );

beforeAll(async () => {
  plane = await startPlane();
}, 60_000);
afterAll(async () => {
  await plane.close();
}, 60_000);

describe('volumes, configs, secrets and jobs', () => {
  it('runs the job first (with its retries), then the service with its mounts', async () => {
    const result = await applyFull({ password: SECRET });
    expect(result.status, result.error).toBe('converged');
    const volume = join(plane.home, 'volumes', 'web', 'data');
    expect(readFileSync(join(volume, 'migrations.log'), 'utf8')).toBe('migrated 1\n');
    expect(
      events.some((e) => e.type === 'job.succeeded' && e.message.includes('2 attempt(s)')),
    ).toBe(true);
    expect((await get(plane.proxyPort, '/file/conf%2Fapp.ini')).body).toBe('greeting=hello\n');
    expect((await get(plane.proxyPort, '/file/secrets%2Fpassword')).body).toBe(SECRET);
    expect((await get(plane.proxyPort, '/file/data%2Fmigrations.log')).body).toBe('migrated 1\n');
  });

  it('keeps volumes across replacements, and a new config content replaces the service', async () => {
    const before = await plane.daemon.engine.instances({ stack: 'web', service: 'web' });
    const result = await applyFull({ password: SECRET, greeting: 'bonjour', version: '2' });
    expect(result.status, result.error).toBe('converged');
    expect(result.plan.actions.find((a) => a.resource === 'web')?.action).toBe('replace');
    const after = await plane.daemon.engine.instances({ stack: 'web', service: 'web' });
    expect(after[0]?.id).not.toBe(before[0]?.id);
    expect((await get(plane.proxyPort, '/file/conf%2Fapp.ini')).body).toBe('greeting=bonjour\n');
    expect((await get(plane.proxyPort, '/file/data%2Fmigrations.log')).body).toBe(
      'migrated 1\nmigrated 2\n',
    );
  });

  it('never writes the secret in clear to the state store, events or plans', async () => {
    const db = join(plane.home, 'state.db');
    // The WAL holds recent writes: check the database files as they are on disk.
    for (const file of [db, `${db}-wal`]) {
      if (!existsSync(file)) continue;
      expect(readFileSync(file).includes(Buffer.from(SECRET))).toBe(false);
    }
    expect(JSON.stringify(events)).not.toContain(SECRET);
    const plan = await plane.daemon.engine.plan({
      file: join(plane.dir, 'full.yaml'),
      stack: 'web',
      parameters: [{ name: 'password', value: 'other', fromText: true, source: '-p' }],
    });
    expect(JSON.stringify(plan)).not.toContain('other');
  });

  it('deletes a volume that leaves the stack, and keeps one with deletion_policy retain on destroy', async () => {
    const result = await plane.daemon.engine.destroy('web', 'test');
    expect(result.status, result.error).toBe('converged');
    expect(existsSync(join(plane.home, 'volumes', 'web', 'data', 'migrations.log'))).toBe(true);
    expect(existsSync(join(plane.home, 'volumes', 'web', 'scratch'))).toBe(false);
    expect(await plane.daemon.engine.instances({ stack: 'web' })).toEqual([]);
    expect(await plane.daemon.engine.stacks()).toEqual([]);
  });
});
