import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import type { LogLevel } from './log.js';
import { createDaemonLog, eventLevel, logEvent, logRequest } from './log.js';

/** A logger writing to memory, and its lines as parsed JSON. */
function capture(level: LogLevel = 'info') {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const { logger } = createDaemonLog({ level, to: stream });
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the daemon log', () => {
  it('writes one JSON object per line: level as a word, ISO time, the message as msg', () => {
    const log = capture();
    log.logger.info({ stack: 'web' }, 'hello');
    const [line] = log.lines();
    expect(line).toMatchObject({ level: 'info', name: 'drover', stack: 'web', msg: 'hello' });
    expect(new Date(String(line?.['time'])).toISOString()).toBe(line?.['time']);
  });

  it('leaves out what is below its level', () => {
    const log = capture('warn');
    log.logger.info('quiet');
    log.logger.warn('loud');
    expect(log.lines().map((l) => l['msg'])).toEqual(['loud']);
  });

  it('never writes the values of secret-looking fields, even nested', () => {
    const log = capture('trace');
    const canary = 'canary-3f9a1c';
    log.logger.info(
      {
        token: canary,
        headers: { authorization: `Bearer ${canary}` },
        data: { password: canary, env: { KEY: canary }, inner: { secret: canary } },
        parameters: { password: canary },
      },
      'a careless line',
    );
    expect(log.text()).not.toContain(canary);
    expect(log.lines()[0]).toMatchObject({
      token: '[redacted]',
      headers: { authorization: '[redacted]' },
      data: { password: '[redacted]', env: '[redacted]', inner: { secret: '[redacted]' } },
    });
  });

  it('appends to a file it creates 0600 in a directory it creates 0700', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-log-'));
    dirs.push(dir);
    const file = join(dir, 'logs', 'daemon.log');
    for (const msg of ['first', 'second']) {
      const log = createDaemonLog({ to: { file } });
      log.logger.info(msg);
      await log.close();
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'logs')).mode & 0o777).toBe(0o700);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['first', 'second']);
  });
});

describe('engine events in the log', () => {
  it.each([
    [{ type: 'apply.converged' }, 'info'],
    [{ type: 'instance.healed' }, 'info'],
    [{ type: 'audit' }, 'info'],
    [{ type: 'progress', phase: 'starting' }, 'debug'],
    [{ type: 'progress', phase: 'failed' }, 'warn'],
    [{ type: 'progress', phase: 'rolling-back' }, 'warn'],
    [{ type: 'reconcile.failed' }, 'warn'],
    [{ type: 'deploy.failed' }, 'warn'],
    [{ type: 'instance.exited' }, 'warn'],
    [{ type: 'drift.detected' }, 'warn'],
  ])('%o at %s', (event, level) => {
    expect(eventLevel(event)).toBe(level);
  });

  it('as one line with the event type, its facts and its message', () => {
    const log = capture();
    logEvent(log.logger, {
      seq: 42,
      type: 'deploy.succeeded',
      stack: 'web',
      resource: 'api',
      phase: 'done',
      who: 'alice',
      message: 'api runs 0123456789ab',
      data: { strategy: 'rolling', ms: 1200 },
    });
    logEvent(log.logger, { type: 'progress', phase: 'starting', message: 'not at info' });
    expect(log.lines()).toEqual([
      expect.objectContaining({
        level: 'info',
        event: 'deploy.succeeded',
        seq: 42,
        stack: 'web',
        resource: 'api',
        phase: 'done',
        who: 'alice',
        data: { strategy: 'rolling', ms: 1200 },
        msg: 'api runs 0123456789ab',
      }),
    ]);
  });
});

describe('API requests in the log', () => {
  it('at info with who, scrapes and probes at debug, failures of ours at error with the stack', () => {
    const log = capture('debug');
    logRequest(log.logger, {
      method: 'GET',
      path: '/api/stacks',
      status: 200,
      durationMs: 3,
      who: 'alice',
    });
    logRequest(log.logger, { method: 'GET', path: '/api/stacks', status: 401, durationMs: 1 });
    logRequest(log.logger, {
      method: 'GET',
      path: '/metrics',
      status: 200,
      durationMs: 2,
      who: 'prometheus',
    });
    logRequest(log.logger, {
      method: 'POST',
      path: '/api/stacks/apply',
      status: 500,
      durationMs: 5,
      who: 'alice',
      error: new Error('the store is gone'),
    });
    const [ok, anonymous, scrape, failure] = log.lines();
    expect(ok).toMatchObject({ level: 'info', method: 'GET', status: 200, who: 'alice' });
    expect(ok?.['msg']).toBe('GET /api/stacks → 200');
    expect(anonymous).toMatchObject({ level: 'info', status: 401 });
    expect(anonymous).not.toHaveProperty('who');
    expect(scrape).toMatchObject({ level: 'debug', path: '/metrics' });
    expect(failure).toMatchObject({
      level: 'error',
      status: 500,
      err: { type: 'Error', message: 'the store is gone' },
    });
    expect(String((failure?.['err'] as { stack: string }).stack)).toContain('log.test.ts');
  });
});
