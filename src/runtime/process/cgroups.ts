import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { allPids, procStat } from './proc.js';

/**
 * Memory and CPU limits through cgroups: v2 when the unified hierarchy has
 * the controllers, else v1 (the memory and cpu hierarchies). One group per
 * instance under a `drover` parent.
 */
export interface CgroupLimits {
  readonly memoryBytes?: number;
  readonly cpus?: number;
}

export interface Cgroups {
  readonly version: 1 | 2;
  /** Creates the instance's groups and sets its limits. */
  create(instance: string, limits: CgroupLimits): Promise<void>;
  /** Moves a process and all its descendants into the instance's groups. */
  adopt(instance: string, pid: number): Promise<void>;
  /** Pids in the instance's group. */
  pids(instance: string): Promise<number[]>;
  /** Whether the kernel killed a process of the group for going over its memory limit. */
  oomKilled(instance: string): Promise<boolean>;
  remove(instance: string): Promise<void>;
}

const ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

async function tryWrite(path: string, value: string): Promise<boolean> {
  try {
    await writeFile(path, value);
    return true;
  } catch {
    return false;
  }
}

async function readNumbers(path: string): Promise<number[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function descendants(pid: number): Promise<number[]> {
  const stats = await Promise.all((await allPids()).map((p) => procStat(p)));
  const children = new Map<number, number[]>();
  for (const stat of stats) {
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(stat.pid);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * Moves a process tree into a group. Children forked after their parent moved
 * inherit the group; one forked between our scan and our move would not, so
 * scan again after moving until the whole tree is inside.
 */
async function moveTree(pid: number, procsFiles: readonly string[]): Promise<void> {
  for (let pass = 0; pass < 20; pass++) {
    for (const p of await descendants(pid)) {
      for (const file of procsFiles) await tryWrite(file, String(p));
    }
    const inside = new Set(await readNumbers(procsFiles[0] as string));
    const tree = await descendants(pid);
    if (tree.every((p) => inside.has(p))) return;
  }
}

class CgroupV1 implements Cgroups {
  readonly version = 1;
  private dir(controller: 'memory' | 'cpu', instance: string): string {
    return join(ROOT, controller, 'drover', instance);
  }

  async create(instance: string, limits: CgroupLimits): Promise<void> {
    const memory = this.dir('memory', instance);
    const cpu = this.dir('cpu', instance);
    await mkdir(memory, { recursive: true });
    await mkdir(cpu, { recursive: true });
    // Charges follow a process that moves in, so memory used before the move counts.
    await tryWrite(join(memory, 'memory.move_charge_at_immigrate'), '1');
    if (limits.memoryBytes !== undefined) {
      await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // No swap beyond the limit: otherwise a limit only slows the process down.
      await tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      await tryWrite(join(memory, 'memory.swappiness'), '0');
    }
    if (limits.cpus !== undefined) {
      await writeFile(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
      await writeFile(
        join(cpu, 'cpu.cfs_quota_us'),
        String(Math.max(1000, Math.round(limits.cpus * PERIOD_US))),
      );
    }
  }

  async adopt(instance: string, pid: number): Promise<void> {
    await moveTree(pid, [
      join(this.dir('memory', instance), 'cgroup.procs'),
      join(this.dir('cpu', instance), 'cgroup.procs'),
    ]);
  }

  pids(instance: string): Promise<number[]> {
    return readNumbers(join(this.dir('memory', instance), 'cgroup.procs'));
  }

  async oomKilled(instance: string): Promise<boolean> {
    try {
      const text = await readFile(join(this.dir('memory', instance), 'memory.oom_control'), 'utf8');
      const kills = /oom_kill (\d+)/.exec(text);
      if (kills) return Number(kills[1]) > 0;
    } catch {
      return false;
    }
    const failures = await readNumbers(join(this.dir('memory', instance), 'memory.failcnt'));
    return (failures[0] ?? 0) > 0;
  }

  async remove(instance: string): Promise<void> {
    for (const controller of ['memory', 'cpu'] as const) {
      await rmdir(this.dir(controller, instance)).catch(() => undefined);
    }
  }
}

class CgroupV2 implements Cgroups {
  readonly version = 2;
  private dir(instance: string): string {
    return join(ROOT, 'drover', instance);
  }

  async create(instance: string, limits: CgroupLimits): Promise<void> {
    await mkdir(join(ROOT, 'drover'), { recursive: true });
    await tryWrite(join(ROOT, 'cgroup.subtree_control'), '+memory +cpu');
    await tryWrite(join(ROOT, 'drover', 'cgroup.subtree_control'), '+memory +cpu');
    const dir = this.dir(instance);
    await mkdir(dir, { recursive: true });
    if (limits.memoryBytes !== undefined) {
      await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
      await tryWrite(join(dir, 'memory.swap.max'), '0');
    }
    if (limits.cpus !== undefined) {
      await writeFile(
        join(dir, 'cpu.max'),
        `${Math.max(1000, Math.round(limits.cpus * PERIOD_US))} ${PERIOD_US}`,
      );
    }
  }

  async adopt(instance: string, pid: number): Promise<void> {
    await moveTree(pid, [join(this.dir(instance), 'cgroup.procs')]);
  }

  pids(instance: string): Promise<number[]> {
    return readNumbers(join(this.dir(instance), 'cgroup.procs'));
  }

  async oomKilled(instance: string): Promise<boolean> {
    try {
      const text = await readFile(join(this.dir(instance), 'memory.events'), 'utf8');
      return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0) > 0;
    } catch {
      return false;
    }
  }

  async remove(instance: string): Promise<void> {
    await rmdir(this.dir(instance)).catch(() => undefined);
  }
}

/** The cgroups this machine lets Drover manage, or undefined (not root, or no controllers). */
export async function detectCgroups(): Promise<Cgroups | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const unified = join(ROOT, 'cgroup.controllers');
  if (existsSync(unified)) {
    const controllers = (await readFile(unified, 'utf8')).split(/\s+/);
    if (controllers.includes('memory')) return new CgroupV2();
  }
  if (
    existsSync(join(ROOT, 'memory', 'cgroup.procs')) &&
    existsSync(join(ROOT, 'cpu', 'cgroup.procs'))
  ) {
    const probe = join(ROOT, 'memory', 'drover');
    try {
      await mkdir(probe, { recursive: true });
      return new CgroupV1();
    } catch {
      return undefined;
    }
  }
  return undefined;
}
