import type { Runtime, RuntimeKind } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import { Redactor } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import { isHiddenDigest } from '../template/index.js';

import { openRevision } from './apply.js';
import { NotFoundError } from './errors.js';
import { readRecordedState } from './records.js';
import type { InstanceBook, InstanceRecord, RevisionBook } from './state.js';
import type { ServiceLogLine, ServiceLogOptions } from './types.js';

/** What reading a service's logs needs from the daemon. */
export interface LogSources {
  readonly store: Store;
  readonly sealer: Sealer;
  readonly instances: InstanceBook;
  readonly revisions: RevisionBook;
  runtime(kind: RuntimeKind): Promise<Runtime>;
  /** How often a followed service is looked at for instances that started since (default 1 s). */
  readonly pollMs?: number;
}

/**
 * A service's output merged across its instances, each line tagged with its
 * instance and redacted. Without `follow`: the history of each current
 * instance, one instance after the other (oldest first). With `follow`: the
 * instances are read at the same time, lines in the order they arrive, and
 * instances that start later (a deploy, a heal) join the stream.
 */
export async function serviceLogs(
  sources: LogSources,
  stack: string,
  service: string,
  options: ServiceLogOptions = {},
): Promise<AsyncIterable<ServiceLogLine>> {
  const recorded = await readRecordedState(sources.store, stack);
  if (Object.keys(recorded.resources).length === 0) {
    throw new NotFoundError(`no stack named ${stack}`);
  }
  if (recorded.resources[service]?.type !== 'Drover::Service') {
    throw new NotFoundError(`${stack} has no service ${service}`);
  }
  const redactor = new SecretRedactor(sources, stack, service);
  return options.follow
    ? followed(sources, stack, service, redactor, options)
    : history(sources, stack, service, redactor, options);
}

async function current(
  sources: LogSources,
  stack: string,
  service: string,
): Promise<InstanceRecord[]> {
  const records = await sources.instances.list(stack, service);
  return records
    .filter((r) => r.handle !== undefined)
    .sort((a, b) => (a.handle?.startedAt ?? '').localeCompare(b.handle?.startedAt ?? ''));
}

async function* history(
  sources: LogSources,
  stack: string,
  service: string,
  redactor: SecretRedactor,
  options: ServiceLogOptions,
): AsyncIterable<ServiceLogLine> {
  for (const record of await current(sources, stack, service)) {
    const redact = await redactor.forRevision(record.revision);
    const runtime = await sources.runtime(record.runtime);
    const handle = record.handle;
    if (handle === undefined) continue;
    const lines = runtime.logs(handle, {
      ...(options.tail === undefined ? {} : { tail: options.tail }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for await (const l of lines) yield tagged(record.id, l, redact);
  }
}

function tagged(
  instance: string,
  l: { stream: 'stdout' | 'stderr'; line: string; at?: string },
  redact: (text: string) => string,
): ServiceLogLine {
  return {
    instance,
    stream: l.stream,
    line: redact(l.line),
    ...(l.at === undefined ? {} : { at: l.at }),
  };
}

/**
 * Every instance read at once into one queue. Ends when the caller's signal
 * aborts or the consumer stops; a failure of one instance's stream ends the
 * whole stream with that failure (the consumer reports it).
 */
async function* followed(
  sources: LogSources,
  stack: string,
  service: string,
  redactor: SecretRedactor,
  options: ServiceLogOptions,
): AsyncIterable<ServiceLogLine> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const queue: ServiceLogLine[] = [];
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    wake?.();
    wake = undefined;
  };
  stop.signal.addEventListener('abort', poke, { once: true });
  const reading = new Set<string>();
  const first = new Set<string>();

  const pump = async (record: InstanceRecord): Promise<void> => {
    const handle = record.handle;
    if (handle === undefined) return;
    const redact = await redactor.forRevision(record.revision);
    const runtime = await sources.runtime(record.runtime);
    // Instances there from the start get the requested tail; later ones are read from their start.
    const tail = first.has(record.id) ? options.tail : undefined;
    const lines = runtime.logs(handle, {
      follow: true,
      signal: stop.signal,
      ...(tail === undefined ? {} : { tail }),
    });
    for await (const l of lines) {
      if (stop.signal.aborted) return;
      queue.push(tagged(record.id, l, redact));
      poke();
    }
  };
  const start = (record: InstanceRecord): void => {
    reading.add(record.id);
    pump(record).catch((error: unknown) => {
      if (stop.signal.aborted) return;
      failure ??= { error };
      poke();
    });
  };
  const look = async (): Promise<void> => {
    for (const record of await current(sources, stack, service)) {
      if (!reading.has(record.id)) start(record);
    }
  };

  const initial = await current(sources, stack, service);
  for (const record of initial) first.add(record.id);
  for (const record of initial) start(record);
  const poller = setInterval(() => {
    look().catch((error: unknown) => {
      failure ??= { error };
      poke();
    });
  }, sources.pollMs ?? 1000);
  try {
    for (;;) {
      while (queue.length > 0) {
        const next = queue.shift() as ServiceLogLine;
        yield next;
      }
      if (failure !== undefined) throw failure.error;
      if (stop.signal.aborted) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearInterval(poller);
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/**
 * The secret values instances of a stack can know: the contents of the
 * stack's Drover::Secret resources, and the values a revision holds where
 * its recorded spec has a keyed digest (hidden parameters and what was
 * derived from them), for the stack's current resources and for the
 * revision each instance runs. The engine knows them in clear only sealed in the
 * store; they are opened here once per revision and kept in memory only for
 * the life of one log stream.
 */
class SecretRedactor {
  private readonly redactor = new Redactor();
  private readonly covered = new Map<string, Promise<void>>();

  constructor(
    private readonly sources: LogSources,
    private readonly stack: string,
    private readonly service: string,
  ) {}

  /** A redaction that covers instances of the revision (and the stack's secrets as they are now). */
  async forRevision(revision: string): Promise<(text: string) => string> {
    let pending = this.covered.get(revision);
    if (pending === undefined) {
      // A new revision may come with changed secrets: read the stack's secrets again too.
      pending = Promise.all([this.addSecrets(), this.addHidden(revision)]).then(() => undefined);
      this.covered.set(revision, pending);
    }
    await pending;
    return (text) => this.redactor.redact(text);
  }

  /** Secret contents, and hidden values of every other resource (a config made from a hidden parameter). */
  private async addSecrets(): Promise<void> {
    const recorded = await readRecordedState(this.sources.store, this.stack);
    for (const [name, r] of Object.entries(recorded.resources)) {
      const properties = await this.open(name, r.revision);
      if (r.type === 'Drover::Secret') {
        const content = (properties as { content?: unknown } | undefined)?.content;
        if (typeof content === 'string') this.redactor.add(content);
      }
      for (const value of hiddenValues(r.spec, properties)) this.redactor.add(value);
    }
  }

  private async addHidden(revision: string): Promise<void> {
    const stored = await this.sources.revisions.get(this.stack, this.service, revision);
    if (stored === undefined) return;
    const properties = openRevision(this.sources.sealer, stored);
    for (const value of hiddenValues(stored.spec, properties)) this.redactor.add(value);
  }

  private async open(resource: string, revision: string): Promise<unknown> {
    const stored = await this.sources.revisions.get(this.stack, resource, revision);
    if (stored === undefined) return undefined;
    return openRevision(this.sources.sealer, stored);
  }
}

/** The clear values (as text) where `spec` holds a keyed digest and `properties` the value. */
export function hiddenValues(spec: unknown, properties: unknown): string[] {
  if (isHiddenDigest(spec)) return leaves(properties);
  if (Array.isArray(spec) && Array.isArray(properties)) {
    return spec.flatMap((s, i) => hiddenValues(s, properties[i]));
  }
  if (isObject(spec) && isObject(properties)) {
    return Object.keys(spec).flatMap((key) => hiddenValues(spec[key], properties[key]));
  }
  return [];
}

function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (isObject(value)) return Object.values(value).flatMap(leaves);
  return [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
