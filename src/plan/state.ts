import type { Json, ResolvedStack } from '../template/index.js';

/** What was applied for one resource, as the planner compares it. */
export interface RecordedResource {
  readonly type: string;
  readonly revision: string;
  /** The resolved spec as recorded (hidden values are keyed digests, never values). */
  readonly spec: { readonly [key: string]: Json };
  readonly dependsOn: readonly string[];
  readonly deletionPolicy: 'delete' | 'retain';
}

/** What was applied for a stack. */
export interface RecordedState {
  readonly stack: string;
  readonly templateHash?: string;
  readonly resources: { readonly [name: string]: RecordedResource };
}

/** The record an apply of this stack leaves (pure: the engine stores it). */
export function recordStack(stack: ResolvedStack): RecordedState {
  const resources: Record<string, RecordedResource> = {};
  for (const r of stack.resources) {
    resources[r.name] = {
      type: r.type,
      revision: r.revision,
      spec: r.spec,
      dependsOn: [...r.dependsOn],
      deletionPolicy: r.deletionPolicy,
    };
  }
  return { stack: stack.name, templateHash: stack.templateHash, resources };
}

export function emptyState(stack: string): RecordedState {
  return { stack, resources: {} };
}
