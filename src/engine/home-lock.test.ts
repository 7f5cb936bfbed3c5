import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { HomeInUseError, lockHome } from './home-lock.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'drover-lock-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('the daemon lock on $DROVER_HOME', () => {
  it('lets one daemon in at a time and is free again once released', () => {
    const lock = lockHome(home);
    expect(() => lockHome(home)).toThrow(HomeInUseError);
    expect(() => lockHome(home)).toThrow(`(pid ${process.pid})`);
    lock.release();
    expect(existsSync(join(home, 'daemon.lock'))).toBe(false);
    lockHome(home).release();
  });

  it('takes over a lock left by a process that is gone (a daemon killed with SIGKILL)', () => {
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
      encoding: 'utf8',
    });
    writeFileSync(join(home, 'daemon.lock'), `${gone.stdout.trim()} 12345\n`);
    const lock = lockHome(home);
    expect(readFileSync(join(home, 'daemon.lock'), 'utf8')).toMatch(
      new RegExp(`^${process.pid} \\d+\\n$`),
    );
    lock.release();
  });

  it('takes over a lock whose pid now belongs to another process, or that is garbage', () => {
    // Our own pid, but another start time: the pid was reused.
    writeFileSync(join(home, 'daemon.lock'), `${process.pid} 1\n`);
    lockHome(home).release();
    writeFileSync(join(home, 'daemon.lock'), 'not a lock');
    lockHome(home).release();
  });

  it('does not remove a lock that another daemon took over', () => {
    const lock = lockHome(home);
    writeFileSync(join(home, 'daemon.lock'), `1 999\n`);
    lock.release();
    expect(readFileSync(join(home, 'daemon.lock'), 'utf8')).toBe('1 999\n');
  });
});
