import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';

import type { Plan, PlanAction } from '../plan/index.js';
import { planStack, recordStack } from '../plan/index.js';
import type { InstanceArtifact, Runtime, RuntimeKind } from '../runtime/index.js';
import type { Sealer } from '../secrets/index.js';
import type { Store } from '../store/index.js';
import type {
  ArtifactProperties,
  ResolvedResource,
  ResolvedResourceOf,
  ResolvedStack,
  ServiceProperties,
} from '../template/index.js';

import { drainAndStop } from './deploy/instances.js';
import { deployService } from './deploy/strategies.js';
import type { DeployContext, ServiceTarget } from './deploy/types.js';
import type { NewEvent } from './events.js';
import { volumeDir } from './mounts.js';
import { readRecordedState, stackKeys, writeRecordedState } from './records.js';
import type {
  DeploymentBook,
  InstanceBook,
  RevisionBook,
  StackRevisionBook,
  StoredRevision,
  TargetBook,
} from './state.js';
import type { Actor, ApplyResult } from './types.js';

/** What an apply needs besides the deployment context. */
export interface ApplyContext {
  readonly home: string;
  readonly store: Store;
  readonly sealer: Sealer;
  readonly deploy: DeployContext;
  readonly instances: InstanceBook;
  readonly deployments: DeploymentBook;
  readonly revisions: RevisionBook;
  readonly stackRevisions: StackRevisionBook;
  readonly targets: TargetBook;
  readonly runtime: (kind: RuntimeKind) => Promise<Runtime>;
  /** Config templates and jobs run in the daemon: these start, replace and stop them. */
  readonly configTemplates: {
    set(stack: string, resource: ResolvedResourceOf<'Drover::ConfigTemplate'>): Promise<void>;
    remove(stack: string, name: string): Promise<void>;
  };
  readonly jobs: {
    /** A job without a schedule runs now (the apply waits); one with a schedule is (re)scheduled. */
    set(
      stack: string,
      resource: ResolvedResourceOf<'Drover::Job'>,
      artifact: InstanceArtifact,
      who: Actor,
    ): Promise<void>;
    remove(stack: string, name: string): Promise<void>;
  };
  progress(event: NewEvent): void;
  /** Makes the desired stack's config and secret contents available to instance mounts. */
  remember(desired: ResolvedStack): void;
}

const builtKey = (stack: string, name: string): string => `/built/${stack}/${name}`;

/** The artifact a resource's revision was built into (what its instances run). */
export async function builtArtifact(
  store: Store,
  stack: string,
  name: string,
): Promise<{ revision: string; artifact: InstanceArtifact } | undefined> {
  const kv = await store.get(builtKey(stack, name));
  return kv === undefined
    ? undefined
    : (JSON.parse(kv.value) as { revision: string; artifact: InstanceArtifact });
}

/** The aad that binds sealed properties to their revision record. */
export const revisionAad = (stack: string, resource: string, revision: string): string =>
  `revision:${stack}/${resource}/${revision}`;

/** The full properties a stored revision holds sealed (they may hold secrets). */
export function openRevision(
  sealer: Sealer,
  stored: Pick<StoredRevision, 'stack' | 'resource' | 'id' | 'sealed'>,
): unknown {
  return sealer.openJson(stored.sealed, revisionAad(stored.stack, stored.resource, stored.id));
}

/**
 * Applies a resolved stack: the plan's actions in dependency order, in
 * parallel where independent (a resource starts when everything it depends
 * on is done), each recorded as soon as it is done, so that what the store
 * says is what runs. Deletes come last, dependents first.
 */
export async function applyStack(
  ctx: ApplyContext,
  desired: ResolvedStack,
  who: Actor,
  kind: 'apply' | 'rollback',
): Promise<ApplyResult> {
  const stack = desired.name;
  ctx.remember(desired);
  const recorded = await readRecordedState(ctx.store, stack);
  const plan = planStack(desired, recorded);
  const outputs = desired.outputs.map((o) => ({
    name: o.name,
    ...(o.description ? { description: o.description } : {}),
    value: o.value,
  }));
  const changes = plan.actions.filter((a) => a.action !== 'noop');
  if (changes.length === 0 && kind === 'apply') {
    ctx.progress({
      type: 'apply.converged',
      stack,
      who,
      message: `${stack}: nothing to change`,
      data: { kind },
    });
    return { stack, status: 'unchanged', plan, outputs };
  }
  // The desired state survives a crash: a restarted daemon converges to it.
  await ctx.targets.put({
    stack,
    who,
    kind,
    file: desired.file,
    templateHash: desired.templateHash,
    sealed: ctx.sealer.sealJson(desired, `target:${stack}`),
    startedAt: new Date().toISOString(),
  });
  ctx.progress({
    type: 'apply.started',
    stack,
    who,
    message: `${kind} of ${stack}: ${summary(plan)}`,
    data: { ...plan.summary },
  });
  await saveRevisions(ctx, desired, who);

  const byName = new Map(desired.resources.map((r) => [r.name, r]));
  const done = new Map<string, Promise<void>>();
  const failures: string[] = [];
  const run = (action: PlanAction): Promise<void> => {
    const existing = done.get(action.resource);
    if (existing) return existing;
    const resource = byName.get(action.resource);
    const task = (async () => {
      const deps = (resource?.dependsOn ?? []).map((d) => {
        const dep = plan.actions.find((a) => a.resource === d);
        return dep ? run(dep) : Promise.resolve();
      });
      const settled = await Promise.allSettled(deps);
      if (settled.some((s) => s.status === 'rejected'))
        throw new Error(`skipped: something ${action.resource} depends on failed`);
      if (resource === undefined || action.action === 'noop') return;
      try {
        await converge(ctx, stack, resource, who);
        await ctx.store.put(
          stackKeys.resource(stack, resource.name),
          JSON.stringify(
            recordStack({ ...desired, resources: [resource] }).resources[resource.name],
          ),
        );
        ctx.progress({
          type: 'progress',
          stack,
          resource: resource.name,
          phase: 'done',
          message: `${resource.name}: ${action.action} done`,
        });
      } catch (error) {
        failures.push(`${resource.name}: ${(error as Error).message}`);
        ctx.progress({
          type: 'progress',
          stack,
          resource: resource.name,
          phase: 'failed',
          message: `${resource.name}: ${(error as Error).message}`,
        });
        throw error;
      }
    })();
    done.set(action.resource, task);
    return task;
  };
  await Promise.allSettled(plan.actions.filter((a) => a.action !== 'delete').map(run));

  if (failures.length === 0) {
    for (const action of plan.actions.filter((a) => a.action === 'delete')) {
      try {
        await remove(
          ctx,
          stack,
          action,
          recorded.resources[action.resource]?.deletionPolicy === 'retain',
        );
        await ctx.store.delete(stackKeys.resource(stack, action.resource));
      } catch (error) {
        failures.push(`${action.resource}: ${(error as Error).message}`);
        break;
      }
    }
  }
  await ctx.targets.remove(stack);
  if (failures.length > 0) {
    const error = failures.join('; ');
    ctx.progress({
      type: 'apply.failed',
      stack,
      who,
      phase: 'failed',
      message: `${kind} of ${stack} failed: ${error}`,
      data: { kind },
    });
    return { stack, status: 'failed', plan, error, outputs };
  }
  const state = recordStack(desired);
  await writeRecordedState(ctx.store, state);
  const stackRevision = await ctx.stackRevisions.append(stack, {
    createdAt: new Date().toISOString(),
    createdBy: who,
    templateHash: desired.templateHash,
    kind,
    resources: Object.fromEntries(desired.resources.map((r) => [r.name, r.revision])),
    recorded: state,
    file: desired.file,
    outputs,
  });
  ctx.progress({
    type: 'apply.converged',
    stack,
    who,
    phase: 'done',
    message: `${stack} converged (stack revision ${stackRevision})`,
    data: { stackRevision, kind },
  });
  return { stack, status: 'converged', stackRevision, plan, outputs };
}

function summary(plan: Plan): string {
  const s = plan.summary;
  return `${s.create} to create, ${s.replace} to replace, ${s.update} to update, ${s.delete} to delete`;
}

/** Every desired resource's revision, recorded once (revisions are immutable). */
async function saveRevisions(ctx: ApplyContext, desired: ResolvedStack, who: Actor): Promise<void> {
  const parameters = Object.fromEntries(
    desired.parameters.map((p) => [p.name, p.hidden ? '(hidden)' : p.value]),
  );
  const at = new Date().toISOString();
  for (const r of desired.resources) {
    await ctx.revisions.save({
      id: r.revision,
      stack: desired.name,
      resource: r.name,
      type: r.type,
      createdAt: at,
      createdBy: who,
      templateHash: desired.templateHash,
      parameters,
      spec: r.spec,
      sealed: ctx.sealer.sealJson(r.properties, revisionAad(desired.name, r.name, r.revision)),
      dependsOn: r.dependsOn,
      deletionPolicy: r.deletionPolicy,
      dir: r.dir,
    });
  }
}

/** Brings one resource to its desired state. */
async function converge(
  ctx: ApplyContext,
  stack: string,
  resource: ResolvedResource,
  who: Actor,
): Promise<void> {
  const progress = (phase: NewEvent['phase'], message: string): void =>
    ctx.progress({
      type: 'progress',
      stack,
      resource: resource.name,
      ...(phase ? { phase } : {}),
      message,
    });
  switch (resource.type) {
    case 'Drover::Artifact': {
      const props: ArtifactProperties = resource.properties;
      if ((await builtArtifact(ctx.store, stack, resource.name))?.revision === resource.revision)
        return;
      progress('building', `building ${resource.name} (${resource.revision.slice(0, 12)})`);
      const runtime = await ctx.runtime(props.dockerfile === undefined ? 'process' : 'docker');
      const artifact = await runtime.build({
        id: resource.revision,
        context: resolve(resource.dir, props.context),
        ...(props.build ? { build: props.build } : {}),
        ...(props.dockerfile ? { dockerfile: props.dockerfile } : {}),
        timeoutMs: props.build_timeout,
        who,
      });
      await ctx.store.put(
        builtKey(stack, resource.name),
        JSON.stringify({ revision: resource.revision, artifact }),
      );
      return;
    }
    case 'Drover::Service': {
      await deployService(
        ctx.deploy,
        await serviceTarget(ctx, stack, resource.name, resource.revision, resource.properties, who),
      );
      return;
    }
    case 'Drover::Route': {
      progress(
        'registering',
        `route ${resource.properties.host ?? '*'}${resource.properties.path} → ${resource.properties.service}`,
      );
      await ctx.deploy.registry.putRoute({
        stack,
        name: resource.name,
        ...(resource.properties.host === undefined ? {} : { host: resource.properties.host }),
        path: resource.properties.path,
        service: resource.properties.service,
      });
      return;
    }
    case 'Drover::Volume':
      await mkdir(volumeDir(ctx.home, stack, resource.name), { recursive: true, mode: 0o755 });
      return;
    case 'Drover::Config':
    case 'Drover::Secret':
      // Their content lives in their revision; the services mounting them get new revisions.
      return;
    case 'Drover::ConfigTemplate':
      await ctx.configTemplates.set(stack, resource);
      return;
    case 'Drover::Job': {
      const built = await builtArtifact(ctx.store, stack, resource.properties.artifact);
      if (built === undefined)
        throw new Error(`artifact ${resource.properties.artifact} is not built`);
      await ctx.jobs.set(stack, resource, built.artifact, who);
      return;
    }
  }
}

/** What a service instance runs, from its properties and its built artifact. */
export async function serviceTarget(
  ctx: Pick<ApplyContext, 'store'>,
  stack: string,
  service: string,
  revision: string,
  props: ServiceProperties,
  who: Actor,
): Promise<ServiceTarget> {
  const built = await builtArtifact(ctx.store, stack, props.artifact);
  if (built === undefined) throw new Error(`artifact ${props.artifact} of ${service} is not built`);
  return { stack, service, revision, props, artifact: built.artifact, who };
}

/** Removes a resource that left the stack. */
async function remove(
  ctx: ApplyContext,
  stack: string,
  action: PlanAction,
  retain: boolean,
): Promise<void> {
  ctx.progress({
    type: 'progress',
    stack,
    resource: action.resource,
    phase: 'stopping',
    message: `removing ${action.resource}${retain ? ' (data retained)' : ''}`,
  });
  switch (action.type) {
    case 'Drover::Service': {
      const records = await ctx.instances.list(stack, action.resource);
      await drainAndStop(ctx.deploy, { stack, service: action.resource }, records, 10_000);
      await ctx.deployments.remove(stack, action.resource);
      return;
    }
    case 'Drover::Route':
      await ctx.deploy.registry.deleteRoute({ stack, name: action.resource });
      return;
    case 'Drover::Volume':
      if (!retain)
        await rm(volumeDir(ctx.home, stack, action.resource), { recursive: true, force: true });
      return;
    case 'Drover::ConfigTemplate':
      await ctx.configTemplates.remove(stack, action.resource);
      return;
    case 'Drover::Job':
      await ctx.jobs.remove(stack, action.resource);
      return;
    case 'Drover::Artifact':
      await ctx.store.delete(builtKey(stack, action.resource));
      return;
    default:
      return;
  }
}
