import type { Registry } from '../registry/index.js';
import type { ObservedInstance, PortAllocator, Runtime, RuntimeKind } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import type { ResolvedResourceOf } from '../template/index.js';

import { builtArtifact, openRevision } from './apply.js';
import type { ConfigTemplates } from './config-templates.js';
import type { NewEvent } from './events.js';
import { forgetInstance } from './forget.js';
import type { JobRunner } from './jobs.js';
import { readRecordedState } from './records.js';
import type {
  ApplyTarget,
  DeploymentBook,
  InstanceBook,
  InstanceRecord,
  RevisionBook,
  StackRevisionBook,
  TargetBook,
} from './state.js';

export interface RecoverParts {
  readonly store: Store;
  readonly sealer: Sealer;
  readonly books: {
    instances: InstanceBook;
    deployments: DeploymentBook;
    revisions: RevisionBook;
    stackRevisions: StackRevisionBook;
    targets: TargetBook;
  };
  readonly registry: Registry;
  runtime(kind: RuntimeKind): Promise<Runtime>;
  dockerWanted(): Promise<boolean>;
  readonly ports: PortAllocator;
  unmount(instance: string): Promise<void>;
  readonly configTemplates: ConfigTemplates;
  readonly jobs: JobRunner;
  record(event: NewEvent): void;
}

/**
 * What a starting daemon does before anything else, so that a crash at any
 * point leaves nothing orphaned or doubled: every instance record is checked
 * against what the runtimes see (intents that did not finish are finished or
 * undone), instances nobody recorded are stopped, endpoints of gone instances
 * are removed. Returns the applies that were under way, for the daemon to
 * converge.
 */
export async function recover(parts: RecoverParts): Promise<ApplyTarget[]> {
  const kinds: RuntimeKind[] = ['process'];
  if (await parts.dockerWanted()) kinds.push('docker');
  const observed = new Map<string, { instance: ObservedInstance; runtime: Runtime }>();
  for (const kind of kinds) {
    const runtime = await parts.runtime(kind);
    for (const instance of await runtime.list())
      observed.set(instance.handle.id, { instance, runtime });
  }

  const records = await parts.books.instances.list();
  const known = new Set(records.map((r) => r.id));
  for (const record of records) {
    const seen = observed.get(record.id);
    const running = seen?.instance.state === 'running';
    if (record.state === 'stopping' || (record.state === 'starting' && !running)) {
      if (seen) await seen.runtime.stop(seen.instance.handle, { graceMs: 10_000 });
      await forget(parts, record, 'instance.stopped', `recovery: finished stopping ${record.id}`);
      continue;
    }
    if (record.state === 'starting' && running && seen) {
      await parts.books.instances.put({
        ...record,
        state: 'running',
        handle: seen.instance.handle,
      });
      parts.record({
        type: 'instance.started',
        stack: record.stack,
        resource: record.service,
        message: `recovery: adopted ${record.id}, started just before the crash`,
      });
      continue;
    }
    if (!running) {
      if (seen) await seen.runtime.stop(seen.instance.handle, { graceMs: 1000 });
      await forget(parts, record, 'instance.exited', `recovery: ${record.id} is no longer running`);
    }
  }

  // Instances carrying Drover's markers that no record owns: started by a daemon that died before recording them.
  for (const [id, { instance, runtime }] of observed) {
    if (known.has(id)) continue;
    await runtime.stop(instance.handle, { graceMs: 10_000 });
    parts.record({
      type: 'instance.stopped',
      stack: instance.labels.stack,
      resource: instance.labels.service,
      message: `recovery: stopped ${id}, which no record owned`,
    });
  }

  const live = new Set((await parts.books.instances.list()).map((r) => r.id));
  for (const endpoint of (await parts.registry.snapshot()).endpoints) {
    if (!live.has(endpoint.instance)) await parts.registry.deregister(endpoint);
  }

  // Config templates and schedules of what is applied keep running.
  for (const stack of await parts.books.stackRevisions.stacks()) {
    const recorded = await readRecordedState(parts.store, stack);
    for (const [name, r] of Object.entries(recorded.resources)) {
      if (r.type !== 'Drover::ConfigTemplate' && r.type !== 'Drover::Job') continue;
      const stored = await parts.books.revisions.get(stack, name, r.revision);
      if (stored === undefined) continue;
      const properties = openRevision(parts.sealer, stored);
      const resource = {
        name,
        type: r.type,
        properties,
        revision: r.revision,
        dir: stored.dir,
        spec: stored.spec,
        dependsOn: stored.dependsOn,
        deletionPolicy: stored.deletionPolicy,
        attributes: {},
        hidden: [],
        loc: { file: '', line: 0, col: 0 },
      };
      if (r.type === 'Drover::ConfigTemplate') {
        await parts.configTemplates.set(
          stack,
          resource as unknown as ResolvedResourceOf<'Drover::ConfigTemplate'>,
        );
      } else {
        const job = resource as unknown as ResolvedResourceOf<'Drover::Job'>;
        const built = await builtArtifact(parts.store, stack, job.properties.artifact);
        if (built && job.properties.schedule !== undefined)
          parts.jobs.schedule(stack, job, built.artifact, stored.createdBy);
      }
    }
  }
  return parts.books.targets.list();
}

async function forget(
  parts: RecoverParts,
  record: InstanceRecord,
  type: 'instance.stopped' | 'instance.exited',
  message: string,
): Promise<void> {
  await forgetInstance({ ...parts, instances: parts.books.instances }, record);
  parts.record({ type, stack: record.stack, resource: record.service, message });
}
