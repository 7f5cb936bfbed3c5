/**
 * The reconciler's decisions: a pure function from what is declared, what is
 * recorded and what is observed to a list of actions. It never acts; the
 * engine carries the decisions out (see engine/reconciler.ts). Nomad's
 * scheduler reconciler works the same way.
 */

export interface ReconcileSettings {
  /** How long an instance carrying Drover's markers but owned by no record may run before it is stopped. */
  readonly orphanGraceMs: number;
  /** Failures of one revision within this window count towards a crash loop and towards the backoff. */
  readonly failureWindowMs: number;
  /** This many crashes of one revision within the window is a crash loop. */
  readonly crashLoopFailures: number;
  /** Delay before the second heal of a service within the window; it doubles for every further failure. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_SETTINGS: ReconcileSettings = {
  orphanGraceMs: 10_000,
  failureWindowMs: 60_000,
  crashLoopFailures: 5,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
};

/** A service as declared (its current revision) and as the reconciler remembers it. */
export interface ServiceView {
  readonly stack: string;
  readonly service: string;
  readonly revision: string;
  readonly replicas: number;
  /** Extra instances a replacement may add while the one it replaces still runs. */
  readonly maxSurge: number;
  readonly drift: 'report' | 'replace';
  /** An apply, rollback or deployment owns the service right now: hands off. */
  readonly busy: boolean;
  /** When instances of the current revision failed (ms since the epoch), oldest first: the backoff. */
  readonly failures: readonly number[];
  /** The failures that were the revision's own (exits, crashes, failed health), not kills from outside: crash loops. */
  readonly crashes: readonly number[];
  /** Replacements being started for it right now. */
  readonly healing: number;
  /** The current revision was already marked failed. */
  readonly failed: boolean;
  /** The revision it ran before the deploy that brought the current one, if any. */
  readonly previousRevision?: string;
}

export interface InstanceView {
  readonly id: string;
  readonly stack: string;
  readonly service: string;
  readonly revision: string;
  /** The record's state: intents (starting, stopping) belong to whoever wrote them. */
  readonly state: 'starting' | 'running' | 'stopping';
  /** What the runtime says; `missing` when it knows nothing of the instance. */
  readonly observed: 'running' | 'exited' | 'missing';
  readonly health: 'unknown' | 'starting' | 'healthy' | 'unhealthy';
  readonly drifted: boolean;
  /** A replacement for it is being started. */
  readonly replacing: boolean;
}

/** An instance that carries Drover's markers and that no record owns. */
export interface OrphanView {
  readonly id: string;
  readonly stack: string;
  readonly service: string;
  /** When the reconciler first saw it (ms since the epoch). */
  readonly firstSeen: number;
}

export interface ReconcileView {
  readonly now: number;
  readonly services: readonly ServiceView[];
  readonly instances: readonly InstanceView[];
  readonly orphans: readonly OrphanView[];
  readonly settings: ReconcileSettings;
}

export type Decision =
  /** The record's instance exited or vanished: take it out of every book (the service is healed by `start`). */
  | {
      readonly kind: 'forget';
      readonly instance: string;
      readonly stack: string;
      readonly service: string;
      readonly reason: string;
    }
  /** Start fresh instances of the current revision. */
  | {
      readonly kind: 'start';
      readonly stack: string;
      readonly service: string;
      readonly revision: string;
      readonly count: number;
      readonly reason: string;
    }
  /** Start a fresh instance, and once it is healthy drain and stop this one. */
  | {
      readonly kind: 'replace';
      readonly instance: string;
      readonly stack: string;
      readonly service: string;
      readonly revision: string;
      readonly reason: 'unhealthy' | 'drift';
    }
  /** Drain and stop an instance without a replacement first (no surge room, or one too many). */
  | {
      readonly kind: 'retire';
      readonly instance: string;
      readonly stack: string;
      readonly service: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'stop-orphan';
      readonly instance: string;
      readonly stack: string;
      readonly service: string;
    }
  /** The revision keeps failing: mark it failed, and roll back when a deploy brought it. */
  | {
      readonly kind: 'crash-loop';
      readonly stack: string;
      readonly service: string;
      readonly revision: string;
      readonly failures: number;
      readonly rollbackTo?: string;
    }
  /** Healing is due but backing off until `until`. */
  | {
      readonly kind: 'wait';
      readonly stack: string;
      readonly service: string;
      readonly until: number;
    };

/** Failures within the window, given failure times oldest first. */
export function recentFailures(
  failures: readonly number[],
  now: number,
  settings: ReconcileSettings,
): number[] {
  return failures.filter((t) => now - t < settings.failureWindowMs);
}

/**
 * When the next heal of a service may start: at once after its first failure
 * within the window (a single crash costs nothing extra), then after
 * base, 2·base, 4·base… up to the maximum from its latest failure.
 */
export function healAllowedAt(
  failures: readonly number[],
  now: number,
  settings: ReconcileSettings,
): number {
  const recent = recentFailures(failures, now, settings);
  if (recent.length <= 1) return now;
  const delay = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** (recent.length - 2));
  return (recent.at(-1) as number) + delay;
}

export function decide(view: ReconcileView): Decision[] {
  const decisions: Decision[] = [];
  const byService = new Map<string, InstanceView[]>();
  for (const i of view.instances) {
    const key = `${i.stack}/${i.service}`;
    let list = byService.get(key);
    if (list === undefined) byService.set(key, (list = []));
    list.push(i);
  }
  for (const service of view.services) {
    if (service.busy) continue;
    decideService(
      view,
      service,
      byService.get(`${service.stack}/${service.service}`) ?? [],
      decisions,
    );
  }
  for (const orphan of view.orphans) {
    if (view.now - orphan.firstSeen >= view.settings.orphanGraceMs)
      decisions.push({
        kind: 'stop-orphan',
        instance: orphan.id,
        stack: orphan.stack,
        service: orphan.service,
      });
  }
  return decisions;
}

function decideService(
  view: ReconcileView,
  service: ServiceView,
  instances: readonly InstanceView[],
  decisions: Decision[],
): void {
  const { stack, revision } = service;
  const name = service.service;
  let lost = 0;
  const live: InstanceView[] = [];
  for (const i of instances) {
    if (i.state === 'running' && i.observed !== 'running') {
      decisions.push({
        kind: 'forget',
        instance: i.id,
        stack,
        service: name,
        reason: i.observed === 'exited' ? 'it exited' : 'its runtime no longer knows it',
      });
      if (i.revision === revision) lost++;
    } else if (i.revision === revision && i.state === 'running') {
      // Records still `starting` are the reconciler's own replacements, counted in `healing`.
      live.push(i);
    }
  }

  const crashes = recentFailures(service.crashes, view.now, view.settings);
  if (!service.failed && crashes.length >= view.settings.crashLoopFailures) {
    decisions.push({
      kind: 'crash-loop',
      stack,
      service: name,
      revision,
      failures: crashes.length,
      ...(service.previousRevision === undefined ? {} : { rollbackTo: service.previousRevision }),
    });
    // A rollback replaces the whole set; healing the failing revision meanwhile only feeds the loop.
    if (service.previousRevision !== undefined) return;
  }

  // Never more than replicas + surge instances of the revision, counting replacements under way.
  const ceiling = service.replicas + service.maxSurge;
  let count = live.length + service.healing;
  const allowedAt = healAllowedAt(service.failures, view.now, view.settings);
  const due = allowedAt <= view.now;

  const staying = live.filter((i) => !i.replacing);
  const missing = service.replicas - count;
  if (missing > 0) {
    if (due)
      decisions.push({
        kind: 'start',
        stack,
        service: name,
        revision,
        count: missing,
        reason:
          lost > 0
            ? `${lost} instance${lost === 1 ? '' : 's'} of ${name} stopped running`
            : `${name} runs ${count} of ${service.replicas} replicas`,
      });
    else decisions.push({ kind: 'wait', stack, service: name, until: allowedAt });
    count = service.replicas;
  } else if (service.healing === 0 && staying.length > service.replicas) {
    // One too many (a heal raced an exit that turned out not to be one): retire the least healthy.
    // Instances already being replaced are on their way out and do not count.
    const extra = [...staying]
      .sort((a, b) => rank(a) - rank(b))
      .slice(0, staying.length - service.replicas);
    for (const i of extra)
      decisions.push({
        kind: 'retire',
        instance: i.id,
        stack,
        service: name,
        reason: `${name} runs more than its ${service.replicas} replicas`,
      });
    return;
  }

  const replaceable = live.filter(
    (i) =>
      i.state === 'running' &&
      !i.replacing &&
      (i.health === 'unhealthy' || (i.drifted && service.drift === 'replace')),
  );
  for (const i of replaceable) {
    const reason = i.health === 'unhealthy' ? 'unhealthy' : 'drift';
    if (!due && reason === 'unhealthy') {
      decisions.push({ kind: 'wait', stack, service: name, until: allowedAt });
      break;
    }
    if (count < ceiling) {
      decisions.push({ kind: 'replace', instance: i.id, stack, service: name, revision, reason });
      count++;
    } else if (service.maxSurge === 0 && service.healing === 0) {
      // No room to start first: the unhealthy instance serves nothing anyway, so it goes first.
      if (reason === 'unhealthy')
        decisions.push({
          kind: 'retire',
          instance: i.id,
          stack,
          service: name,
          reason: `${i.id} is unhealthy and max_surge is 0`,
        });
      break;
    }
  }
}

/** Which instance to retire first: unhealthy, then drifted, then unknown health, then healthy. */
function rank(i: InstanceView): number {
  if (i.health === 'unhealthy') return 0;
  if (i.drifted) return 1;
  return i.health === 'healthy' ? 3 : 2;
}
