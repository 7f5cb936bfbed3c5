import type { JobResult } from '../jobs/index.js';
import { JobScheduler, runJob } from '../jobs/index.js';
import type {
  InstanceArtifact,
  Mount,
  PortAllocator,
  Runtime,
  RuntimeKind,
} from '../runtime/index.js';
import type { ResolvedResourceOf } from '../template/index.js';

import type { ServiceTarget } from './deploy/types.js';
import type { NewEvent } from './events.js';
import type { Actor } from './types.js';

type JobResource = ResolvedResourceOf<'Drover::Job'>;

export interface JobRunnerParts {
  runtime(kind: RuntimeKind): Promise<Runtime>;
  readonly ports: PortAllocator;
  record(event: NewEvent): void;
  mounts(target: ServiceTarget, instance: string): Promise<Mount[]>;
  unmount(instance: string): Promise<void>;
  /** The clock schedules are read against (tests move it); default `new Date()`. */
  readonly now?: () => Date;
}

/**
 * Jobs in the daemon: a job without a schedule runs when it is applied (the
 * apply waits for it and fails if it fails after its retries); a job with a
 * schedule runs at the times its cron expression names.
 */
export class JobRunner {
  private readonly scheduled = new Map<
    string,
    { resource: JobResource; artifact: InstanceArtifact; who: Actor }
  >();
  private readonly scheduler: JobScheduler;

  constructor(private readonly parts: JobRunnerParts) {
    this.scheduler = new JobScheduler({
      ...(parts.now ? { now: parts.now } : {}),
      onDue: async (due) => {
        const job = this.scheduled.get(due.key);
        if (job === undefined) return;
        const [stack] = due.key.split('/');
        await this.run(
          stack as string,
          job.resource,
          job.artifact,
          job.who,
          parts.record,
          due.signal,
        );
      },
      onSkip: (skipped) =>
        parts.record({
          type: 'job.failed',
          message: `${skipped.key}: run at ${skipped.scheduledAt.toISOString()} skipped, the previous one is still running`,
        }),
    });
  }

  async set(
    stack: string,
    resource: JobResource,
    artifact: InstanceArtifact,
    who: Actor,
    progress: (event: NewEvent) => void,
  ): Promise<void> {
    if (resource.properties.schedule !== undefined) {
      this.schedule(stack, resource, artifact, who);
      progress({
        type: 'progress',
        stack,
        resource: resource.name,
        phase: 'done',
        message: `${resource.name} scheduled (${resource.properties.schedule})`,
      });
      return;
    }
    this.remove(stack, resource.name);
    const result = await this.run(stack, resource, artifact, who, progress);
    if (result.status !== 'succeeded') {
      const last = result.attempts.at(-1);
      throw new Error(
        `job ${resource.name} ${result.status} after ${result.attempts.length} attempt(s)${last ? ` (exit ${last.exitCode ?? last.signal ?? 'unknown'})` : ''}`,
      );
    }
  }

  schedule(stack: string, resource: JobResource, artifact: InstanceArtifact, who: Actor): void {
    const key = `${stack}/${resource.name}`;
    this.scheduled.set(key, { resource, artifact, who });
    this.scheduler.set(key, resource.properties.schedule as string);
  }

  /** Runs the scheduled jobs that are due now; resolves when they finished (the timer does this too). */
  tick(): Promise<void> {
    return this.scheduler.tick();
  }

  remove(stack: string, name: string): void {
    const key = `${stack}/${name}`;
    this.scheduled.delete(key);
    this.scheduler.remove(key);
  }

  private async run(
    stack: string,
    resource: JobResource,
    artifact: InstanceArtifact,
    who: Actor,
    progress: (event: NewEvent) => void,
    signal?: AbortSignal,
  ): Promise<JobResult> {
    const p = resource.properties;
    const runtime = await this.parts.runtime(p.runtime ?? 'process');
    const owner = `job:${stack}/${resource.name}`;
    const port = await this.parts.ports.allocate(owner);
    this.active.set(
      `${stack}/${resource.name}`,
      (this.active.get(`${stack}/${resource.name}`) ?? 0) + 1,
    );
    progress({
      type: 'progress',
      stack,
      resource: resource.name,
      phase: 'running',
      message: `running job ${resource.name}`,
    });
    const target = {
      stack,
      service: resource.name,
      revision: resource.revision,
      props: { ...p, volumes: p.volumes, configs: p.configs, secrets: p.secrets },
      artifact,
      who,
    } as unknown as ServiceTarget;
    try {
      const result = await runJob({
        runtime,
        name: resource.name,
        spec: {
          labels: { stack, service: resource.name, revision: resource.revision },
          artifact,
          command: p.command,
          env: p.env,
          port,
          limits: { memoryBytes: p.resources.memory, cpus: p.resources.cpu },
        },
        mounts: (instance: string) => this.parts.mounts(target, instance),
        unmount: (instance: string) => this.parts.unmount(instance),
        retries: p.retries,
        ...(p.timeout === undefined ? {} : { timeoutMs: p.timeout }),
        ...(signal ? { signal } : {}),
      });
      progress({
        type: result.status === 'succeeded' ? 'job.succeeded' : 'job.failed',
        stack,
        resource: resource.name,
        who,
        message: `job ${resource.name}: ${result.status} after ${result.attempts.length} attempt(s)`,
        data: { attempts: result.attempts.length },
      });
      return result;
    } finally {
      const left = (this.active.get(`${stack}/${resource.name}`) ?? 1) - 1;
      if (left === 0) this.active.delete(`${stack}/${resource.name}`);
      else this.active.set(`${stack}/${resource.name}`, left);
      await this.parts.ports.release(port, owner);
    }
  }

  /** Jobs running now, by `stack/name`: their attempts are instances no instance record owns. */
  private readonly active = new Map<string, number>();

  /** Whether an instance with these labels is an attempt of a job that runs now. */
  owns(labels: { stack: string; service: string }): boolean {
    return this.active.has(`${labels.stack}/${labels.service}`);
  }

  async close(): Promise<void> {
    await this.scheduler.close();
  }
}
