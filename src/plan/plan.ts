import type { Json, ResolvedResource, ResolvedStack } from '../template/index.js';
import { resourceTypes } from '../template/index.js';

import type { Change } from './diff.js';
import { diffSpecs, isContentRef } from './diff.js';
import type { RecordedResource, RecordedState } from './state.js';

export type ActionKind = 'create' | 'replace' | 'update' | 'delete' | 'noop';

export interface PlanAction {
  /** Qualified resource name. */
  readonly resource: string;
  readonly type: string;
  readonly action: ActionKind;
  /** Why, in a few words a person can act on. */
  readonly reason: string;
  readonly changes: readonly Change[];
  readonly revision: { readonly before?: string; readonly after?: string };
  /** For deletes with deletion_policy retain: the data stays. */
  readonly retain?: boolean;
}

/** What an apply would do, in the order it would do it. */
export interface Plan {
  readonly stack: string;
  readonly actions: readonly PlanAction[];
  readonly summary: Readonly<Record<ActionKind, number>>;
}

/**
 * The planner: a pure function from what is wanted and what was recorded to
 * one action per resource. Creates, replaces and updates come in dependency
 * order; deletes come last, dependents before what they depend on.
 */
export function planStack(desired: ResolvedStack, recorded: RecordedState | undefined): Plan {
  const before = recorded?.resources ?? {};
  const actions: PlanAction[] = desired.resources.map((r) => actionFor(r, before[r.name]));
  const wanted = new Set(desired.resources.map((r) => r.name));
  const gone = Object.keys(before).filter((name) => !wanted.has(name));
  for (const name of deleteOrder(gone, before)) {
    const old = before[name] as RecordedResource;
    const retain = old.deletionPolicy === 'retain';
    actions.push({
      resource: name,
      type: old.type,
      action: 'delete',
      reason: retain
        ? 'no longer in the template; deletion_policy retain keeps its data'
        : 'no longer in the template',
      changes: diffSpecs(old.spec, undefined),
      revision: { before: old.revision },
      ...(retain ? { retain } : {}),
    });
  }
  const summary: Record<ActionKind, number> = {
    create: 0,
    replace: 0,
    update: 0,
    delete: 0,
    noop: 0,
  };
  for (const a of actions) summary[a.action]++;
  return { stack: desired.name, actions, summary };
}

function actionFor(r: ResolvedResource, old: RecordedResource | undefined): PlanAction {
  if (old === undefined) {
    return {
      resource: r.name,
      type: r.type,
      action: 'create',
      reason: 'new resource',
      changes: diffSpecs(undefined, r.spec),
      revision: { after: r.revision },
    };
  }
  const revision = { before: old.revision, after: r.revision };
  const changes = diffSpecs(old.spec, r.spec);
  if (old.type !== r.type) {
    return {
      resource: r.name,
      type: r.type,
      action: 'replace',
      reason: `type changed from ${old.type}`,
      changes,
      revision,
    };
  }
  const def = resourceTypes[r.type];
  const settings: readonly string[] = def.settings;
  const fields = topLevelFields(changes);
  if (old.revision !== r.revision) {
    const runFields = fields.filter((f) => !settings.includes(f));
    const what = runFields.length > 0 ? runFields : ['content'];
    const action = def.onRevisionChange;
    const verb =
      action === 'replace'
        ? r.type === 'Drover::Service' || r.type === 'Drover::Job'
          ? 'what it runs changed'
          : 'its content changed'
        : 'changed';
    return {
      resource: r.name,
      type: r.type,
      action,
      reason: `${verb}: ${describeFields(what, old.spec, r.spec)}`,
      changes,
      revision,
    };
  }
  if (changes.length > 0) {
    return {
      resource: r.name,
      type: r.type,
      action: 'update',
      reason: updateReason(fields, old.spec, r.spec),
      changes,
      revision,
    };
  }
  return {
    resource: r.name,
    type: r.type,
    action: 'noop',
    reason: 'unchanged',
    changes: [],
    revision,
  };
}

function topLevelFields(changes: readonly Change[]): string[] {
  return [...new Set(changes.map((c) => c.path.split(/[.[]/)[0] ?? c.path))];
}

function describeFields(
  fields: readonly string[],
  before: Record<string, Json>,
  after: Record<string, Json>,
): string {
  return fields
    .map((f) => {
      const a = after[f];
      const b = before[f];
      if (isContentRef(a) && isContentRef(b) && a.$ref === b.$ref)
        return `${f} ${a.$ref} has a new revision`;
      return f;
    })
    .join(', ');
}

function updateReason(
  fields: readonly string[],
  before: Record<string, Json>,
  after: Record<string, Json>,
): string {
  if (fields.length === 1 && fields[0] === 'replicas') {
    return `scale ${JSON.stringify(before['replicas'] ?? null)} → ${JSON.stringify(after['replicas'] ?? null)}`;
  }
  return `changed in place: ${fields.join(', ')}`;
}

/** Reverse dependency order among the resources being deleted. */
function deleteOrder(
  names: readonly string[],
  recorded: Readonly<Record<string, RecordedResource>>,
): string[] {
  const set = new Set(names);
  const visited = new Set<string>();
  const order: string[] = [];
  const visit = (name: string): void => {
    if (visited.has(name)) return;
    visited.add(name);
    for (const dep of recorded[name]?.dependsOn ?? []) if (set.has(dep)) visit(dep);
    order.push(name);
  };
  for (const name of [...names].sort()) visit(name);
  return order.reverse();
}
