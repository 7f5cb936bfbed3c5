import { PassThrough } from 'node:stream';

import { describe, expect, it } from 'vitest';

import type { EngineEvent } from '../engine/types.js';

import type { CliContext } from './context.js';
import { useColor, useLiveProgress } from './context.js';
import { progressPrinter } from './progress.js';
import { capture, screen } from './testing.js';

let seq = 0;
const event = (e: Partial<EngineEvent>): EngineEvent => ({
  seq: ++seq,
  at: '2026-01-01T00:00:00.000Z',
  type: 'progress',
  message: '',
  ...e,
});

describe('progressPrinter', () => {
  const events = [
    event({ resource: 'web', phase: 'building', message: 'building app' }),
    event({ resource: 'db', phase: 'starting', message: 'starting db-1' }),
    event({ resource: 'web', phase: 'switching', message: 'switching traffic to 1a2b' }),
    event({ resource: 'web', phase: 'draining', message: 'draining web-9f' }),
  ];

  it('off a terminal: one plain line per event, columns from the known names', () => {
    const out = capture();
    const text = out.text;
    const print = progressPrinter(out, { color: false, live: false, names: ['web', 'route'] });
    for (const e of events) print(e);
    expect(text()).toBe(
      [
        'web    building      building app',
        'db     starting      starting db-1',
        'web    switching     switching traffic to 1a2b',
        'web    draining      draining web-9f',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal: one line per resource, in place, cut to the width', () => {
    const out = capture();
    const text = out.text;
    const print = progressPrinter(out, { color: true, live: true, columns: 30, rows: 24 });
    for (const e of events) print(e);
    expect(screen(text())).toEqual([
      'web  draining      draining…',
      'db   starting      starting…',
    ]);
  });

  it('goes on in plain lines once the block would be taller than the terminal', () => {
    const out = capture();
    const text = out.text;
    const print = progressPrinter(out, { color: false, live: true, columns: 80, rows: 4 });
    for (const name of ['a', 'b', 'c'])
      print(event({ resource: name, phase: 'starting', message: name }));
    expect(screen(text())).toEqual([
      'a  starting      a',
      'b  starting      b',
      'c  starting      c',
    ]);
  });
});

describe('colour and live progress, decided in one place', () => {
  const ctx = (env: NodeJS.ProcessEnv, isTTY: boolean): CliContext => {
    const stream = Object.assign(new PassThrough(), { isTTY });
    return { env, stdout: stream, stderr: stream };
  };

  it.each([
    { env: {}, tty: true, flag: undefined, color: true },
    { env: {}, tty: false, flag: undefined, color: false },
    { env: { NO_COLOR: '1' }, tty: true, flag: undefined, color: false },
    { env: { NO_COLOR: '' }, tty: true, flag: undefined, color: true },
    { env: {}, tty: true, flag: false, color: false },
    { env: { FORCE_COLOR: '1' }, tty: false, flag: undefined, color: true },
    { env: { FORCE_COLOR: '1', NO_COLOR: 'x' }, tty: true, flag: undefined, color: false },
  ])('colour with $env on a terminal: $tty, --no-color: $flag → $color', (c) => {
    const options = c.flag === undefined ? {} : { color: c.flag };
    expect(useColor(ctx(c.env, c.tty), options)).toBe(c.color);
  });

  it('redraws only on a terminal that can move its cursor (NO_COLOR is about colour only)', () => {
    expect(useLiveProgress(ctx({}, true))).toBe(true);
    expect(useLiveProgress(ctx({ NO_COLOR: '1' }, true))).toBe(true);
    expect(useLiveProgress(ctx({ TERM: 'dumb' }, true))).toBe(false);
    expect(useLiveProgress(ctx({}, false))).toBe(false);
  });
});
