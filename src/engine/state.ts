import type { RecordedState } from '../plan/index.js';
import type { Fingerprint, InstanceHandle, RuntimeKind } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import type { Json } from '../template/index.js';

import type { Actor, RevisionInfo, StackRevisionInfo } from './types.js';

/**
 * The engine's records in the store. Instance records are written before the
 * runtime acts (intent: `starting`, `stopping`) and after (`running`, or
 * removed): after a crash, they say exactly what was under way.
 */
export interface InstanceRecord {
  readonly id: string;
  readonly stack: string;
  readonly service: string;
  readonly revision: string;
  readonly runtime: RuntimeKind;
  readonly port: number;
  readonly state: 'starting' | 'running' | 'stopping';
  readonly color?: string;
  readonly createdAt: string;
  readonly handle?: InstanceHandle;
}

const INSTANCES = '/instances/';

export class InstanceBook {
  constructor(private readonly store: Store) {}

  private key(r: { stack: string; service: string; id: string }): string {
    return `${INSTANCES}${r.stack}/${r.service}/${r.id}`;
  }

  async put(record: InstanceRecord): Promise<void> {
    await this.store.put(this.key(record), JSON.stringify(record));
  }

  /** Removes the record and the fingerprint taken when the instance started. */
  async remove(record: { stack: string; service: string; id: string }): Promise<void> {
    await this.store.txn({
      compare: [],
      success: [
        { type: 'delete', key: this.key(record) },
        { type: 'delete', key: fingerprintKey(record) },
      ],
    });
  }

  async list(stack?: string, service?: string): Promise<InstanceRecord[]> {
    const prefix =
      stack === undefined
        ? INSTANCES
        : service === undefined
          ? `${INSTANCES}${stack}/`
          : `${INSTANCES}${stack}/${service}/`;
    const { kvs } = await this.store.range(prefix);
    return kvs.map((kv) => JSON.parse(kv.value) as InstanceRecord);
  }
}

const fingerprintKey = (r: { stack: string; service: string; id: string }): string =>
  `/fingerprints/${r.stack}/${r.service}/${r.id}`;

/**
 * What each instance was when it became ready (its runtime fingerprint),
 * sealed: environment values may be secrets. Drift is any difference from it.
 */
export class FingerprintBook {
  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
  ) {}

  async put(record: InstanceRecord, fingerprint: Fingerprint): Promise<void> {
    const key = fingerprintKey(record);
    await this.store.put(key, this.sealer.sealJson(fingerprint, key));
  }

  async get(record: InstanceRecord): Promise<Fingerprint | undefined> {
    const key = fingerprintKey(record);
    const kv = await this.store.get(key);
    return kv === undefined ? undefined : (this.sealer.openJson(kv.value, key) as Fingerprint);
  }
}

/** A revision as stored: its public facts, and its full properties sealed (they may hold secrets). */
export interface StoredRevision extends Omit<RevisionInfo, 'current'> {
  readonly sealed: string;
  readonly dependsOn: readonly string[];
  readonly deletionPolicy: 'delete' | 'retain';
  /** Where relative paths in its properties resolve from. */
  readonly dir: string;
}

const REVISIONS = '/revisions/';

export class RevisionBook {
  constructor(private readonly store: Store) {}

  key(stack: string, resource: string, id: string): string {
    return `${REVISIONS}${stack}/${resource}/${id}`;
  }

  /** Revisions are immutable: the first record of an id is kept. */
  async save(revision: StoredRevision): Promise<void> {
    const key = this.key(revision.stack, revision.resource, revision.id);
    await this.store.txn({
      compare: [{ key, target: 'version', op: '=', value: 0 }],
      success: [{ type: 'put', key, value: JSON.stringify(revision) }],
    });
  }

  async get(stack: string, resource: string, id: string): Promise<StoredRevision | undefined> {
    const kv = await this.store.get(this.key(stack, resource, id));
    return kv === undefined ? undefined : (JSON.parse(kv.value) as StoredRevision);
  }

  /** Newest first. */
  async list(stack: string, resource: string): Promise<StoredRevision[]> {
    const { kvs } = await this.store.range(`${REVISIONS}${stack}/${resource}/`);
    return kvs
      .map((kv) => ({ rev: JSON.parse(kv.value) as StoredRevision, at: kv.createRevision }))
      .sort((a, b) => b.at - a.at)
      .map((x) => x.rev);
  }
}

export interface StoredStackRevision extends StackRevisionInfo {
  readonly recorded: RecordedState;
  readonly file?: string;
  readonly outputs: {
    readonly name: string;
    readonly description?: string;
    readonly value: Json;
  }[];
}

const STACK_REVISIONS = '/stack-revisions/';

export class StackRevisionBook {
  constructor(private readonly store: Store) {}

  /** Records the next stack revision; returns its number. */
  async append(
    stack: string,
    entry: Omit<StoredStackRevision, 'number' | 'stack'>,
  ): Promise<number> {
    for (;;) {
      const latest = await this.latest(stack);
      const number = (latest?.number ?? 0) + 1;
      const key = `${STACK_REVISIONS}${stack}/${number.toString().padStart(8, '0')}`;
      const result = await this.store.txn({
        compare: [{ key, target: 'version', op: '=', value: 0 }],
        success: [{ type: 'put', key, value: JSON.stringify({ ...entry, number, stack }) }],
      });
      if (result.succeeded) return number;
    }
  }

  async latest(stack: string): Promise<StoredStackRevision | undefined> {
    const { kvs } = await this.store.range(`${STACK_REVISIONS}${stack}/`);
    const last = kvs.at(-1);
    return last === undefined ? undefined : (JSON.parse(last.value) as StoredStackRevision);
  }

  async get(stack: string, number: number): Promise<StoredStackRevision | undefined> {
    const kv = await this.store.get(
      `${STACK_REVISIONS}${stack}/${number.toString().padStart(8, '0')}`,
    );
    return kv === undefined ? undefined : (JSON.parse(kv.value) as StoredStackRevision);
  }

  /** Newest first. */
  async list(stack: string): Promise<StoredStackRevision[]> {
    const { kvs } = await this.store.range(`${STACK_REVISIONS}${stack}/`);
    return kvs.map((kv) => JSON.parse(kv.value) as StoredStackRevision).reverse();
  }

  async stacks(): Promise<string[]> {
    const { kvs } = await this.store.range(STACK_REVISIONS);
    return [
      ...new Set(kvs.map((kv) => kv.key.slice(STACK_REVISIONS.length).split('/')[0] as string)),
    ];
  }
}

/** A deployment under way, persisted per phase so that a restarted daemon resumes it. */
export interface DeploymentRecord {
  readonly stack: string;
  readonly service: string;
  readonly strategy: 'rolling' | 'blue-green' | 'canary' | 'create' | 'scale';
  readonly from?: string;
  readonly to: string;
  readonly phase: string;
  readonly startedAt: string;
  readonly who: Actor;
  /** blue-green: stop the previous set after this time (ISO). */
  readonly keepUntil?: string;
}

const DEPLOYMENTS = '/deployments/';

export class DeploymentBook {
  constructor(private readonly store: Store) {}

  private key(stack: string, service: string): string {
    return `${DEPLOYMENTS}${stack}/${service}`;
  }

  async put(record: DeploymentRecord): Promise<void> {
    await this.store.put(this.key(record.stack, record.service), JSON.stringify(record));
  }

  async get(stack: string, service: string): Promise<DeploymentRecord | undefined> {
    const kv = await this.store.get(this.key(stack, service));
    return kv === undefined ? undefined : (JSON.parse(kv.value) as DeploymentRecord);
  }

  async remove(stack: string, service: string): Promise<void> {
    await this.store.delete(this.key(stack, service));
  }

  async list(): Promise<DeploymentRecord[]> {
    const { kvs } = await this.store.range(DEPLOYMENTS);
    return kvs.map((kv) => JSON.parse(kv.value) as DeploymentRecord);
  }
}

/** The desired state of a stack while an apply is under way: what a restarted daemon converges to. */
export interface ApplyTarget {
  readonly stack: string;
  readonly who: Actor;
  readonly kind: 'apply' | 'rollback' | 'destroy';
  readonly file?: string;
  readonly templateHash: string;
  /** Sealed JSON of the desired resources (they hold secrets). */
  readonly sealed: string;
  readonly startedAt: string;
}

export class TargetBook {
  constructor(private readonly store: Store) {}

  private key(stack: string): string {
    return `/targets/${stack}`;
  }

  async put(target: ApplyTarget): Promise<void> {
    await this.store.put(this.key(target.stack), JSON.stringify(target));
  }

  async remove(stack: string): Promise<void> {
    await this.store.delete(this.key(stack));
  }

  async list(): Promise<ApplyTarget[]> {
    const { kvs } = await this.store.range('/targets/');
    return kvs.map((kv) => JSON.parse(kv.value) as ApplyTarget);
  }
}
